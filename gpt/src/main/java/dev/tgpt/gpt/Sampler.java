package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.Tokenizer;

/**
 * Generates text with a KV cache: each step runs one decoding program (one position of each of B sequences, each at
 * its own position) on the device, and samples the next tokens from the logits it returns. The prompt goes through
 * the same program a token at a time, so a generation compiles each kernel once, whatever the prompt's length.
 * Sequences start and end between steps in any slot (continuous batching: a server's requests share each step);
 * a sequence's tokens do not depend on the others in the batch. Past the context, a sequence's cache is rebuilt
 * from the latest half of the context and generation goes on (positions are learned, so they restart at 0).
 */
public final class Sampler implements AutoCloseable {

    /**
     * @param temperature 0: always the most likely token
     * @param topK        keep the k most likely tokens; 0: all
     * @param topP        keep the smallest set of most likely tokens whose probability reaches p; 1: all
     * @param stop        texts that end a sequence (not included in the result); the end-of-text token always does
     */
    public record Options(int maxTokens, float temperature, int topK, float topP, List<String> stop, long seed) {

        public Options {
            if (maxTokens < 0) {
                throw new UserError("the number of tokens to generate must not be negative: " + maxTokens);
            }
            if (temperature < 0) {
                throw new UserError("temperature must not be negative: " + temperature);
            }
            if (topK < 0) {
                throw new UserError("top-k must not be negative: " + topK);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new UserError("top-p must be in (0, 1]: " + topP);
            }
            stop = List.copyOf(stop);
        }
    }

    private final Gpt model;
    private final Gpt.Activations act;
    private final Program decode;
    /** A prompt's tokens but its last, {@link Gpt#prefillRows} a launch, into its slot's caches. */
    private final Gpt.Activations pre;
    private final Program prefill;
    private final Session session;
    /** The sequence in each slot of the batch, or null: a free slot. */
    private final Sequence[] slots;
    private final float[] row;

    /** A sampler of {@code slots} sequences at once (the decoder's batch; each slot keeps a KV cache of the whole context). */
    public Sampler(Gpt model, Backend backend, int slots) {
        this.model = model;
        MemoryPlan.decoding(model.config, slots).checkFree("sampling", "sample fewer sequences at once");
        this.act = model.decoder(slots);
        List<Object> state = new ArrayList<>(model.weightArrays());
        state.addAll(act.buffers());
        decode = new Program("decode").state(state.toArray()).inputs(act.tokens, act.pos).outputs(act.logits);
        model.forward(act, false).forEach(decode::add);
        this.pre = model.prefiller(act);
        List<Object> preState = new ArrayList<>(model.weightArrays());
        preState.addAll(pre.buffers());
        prefill = new Program("prefill").state(preState.toArray()).inputs(pre.tokens, pre.pos, pre.slot);
        model.forward(pre, false).forEach(prefill::add);
        session = backend.open(decode, prefill);
        this.slots = new Sequence[slots];
        this.row = new float[model.config.vocabSize()];
    }

    /** Continues each prompt (at most the sampler's slots of them); returns the texts generated after the prompts. */
    public List<String> generate(List<String> prompts, Tokenizer tokenizer, Options o) {
        if (prompts.isEmpty() || prompts.size() > free()) {
            throw new IllegalArgumentException("between 1 and " + free() + " prompts, not " + prompts.size());
        }
        List<Sequence> sequences = new ArrayList<>();
        try {
            for (int i = 0; i < prompts.size(); i++) {
                sequences.add(start(prompts.get(i), tokenizer, o, o.seed() + i, i + 1));
            }
        } catch (RuntimeException e) {
            sequences.forEach(this::cancel); // a bad prompt leaves no sequence behind in the slots
            throw e;
        }
        while (step()) {
            // every sequence generates until it ends
        }
        return sequences.stream().map(Sequence::text).toList();
    }

    /** Free slots: how many more sequences {@link #start} takes now. */
    public int free() {
        int n = 0;
        for (Sequence q : slots) {
            n += q == null ? 1 : 0;
        }
        return n;
    }

    /**
     * Starts a sequence in a free slot; it generates as {@link #step} runs, alongside the others whatever their
     * positions (continuous batching). A bad prompt (empty, too long, outside the vocabulary) is a UserError naming
     * prompt {@code number}.
     */
    public Sequence start(String prompt, Tokenizer tokenizer, Options o, long seed, int number) {
        int[] tokens = tokenizer.encode(prompt);
        int V = model.config.vocabSize();
        int context = model.config.context();
        if (tokens.length == 0) {
            throw new UserError("prompt " + number + " is empty: give at least one token of text");
        }
        if (tokens.length >= context) {
            throw new UserError("prompt " + number + " has " + tokens.length + " tokens; the model's context is " + context
                    + ", so a prompt may have at most " + (context - 1));
        }
        for (int t : tokens) {
            if (t < 0 || t >= V) {
                throw new UserError("prompt " + number + " has token id " + t + ", outside the model's vocabulary of " + V);
            }
        }
        for (int b = 0; b < slots.length; b++) {
            if (slots[b] == null) {
                Sequence q = new Sequence(tokens, tokenizer, o, seed);
                if (o.maxTokens() > 0) {
                    slots[b] = q;
                } else {
                    q.finish = "length";
                }
                return q;
            }
        }
        throw new IllegalStateException("no free slot: " + slots.length + " sequences are generating");
    }

    /** Ends a sequence before it is done (its client left): its slot is free for the next. */
    public void cancel(Sequence q) {
        for (int b = 0; b < slots.length; b++) {
            if (slots[b] == q) {
                slots[b] = null;
                q.finish = "cancelled";
            }
        }
    }

    /**
     * One decoding step: every slot's sequence feeds its next token at its own position (a new prompt first goes
     * through prefill launches but for its last token; then what it sampled), and those that fed their last known
     * token sample the next. Returns whether any sequence is still generating.
     */
    public boolean step() {
        boolean any = false;
        int context = model.config.context();
        for (int b = 0; b < slots.length; b++) {
            Sequence q = slots[b];
            if (q == null) {
                // an idle slot writes its own cache at 0, which the next sequence in it writes before reading
                act.tokens.set(b, 0);
                act.pos.set(b, 0);
                continue;
            }
            any = true;
            if (q.position == context) {
                // the cache is full: re-encode the `keep` tokens before the next one from position 0, and go on from there
                int keep = Math.max(0, context / 2 - 1);
                q.fed -= keep;
                q.position = 0;
            }
            prefill(b, q);
            act.tokens.set(b, q.history.get(q.fed));
            act.pos.set(b, q.position);
        }
        if (!any) {
            return false;
        }
        session.run(decode);
        int V = model.config.vocabSize();
        any = false;
        for (int b = 0; b < slots.length; b++) {
            Sequence q = slots[b];
            if (q == null) {
                continue;
            }
            q.fed++;
            q.position++;
            if (q.fed == q.history.size()) {
                for (int v = 0; v < V; v++) {
                    row[v] = act.logits.get(b * V + v);
                }
                int next = sample(row, q.options, q.random);
                q.history.add(next);
                q.generated.add(next);
                String text = decodeText(q.tokenizer, q.generated);
                if (next == q.tokenizer.endOfText() || stopAt(text, q.options.stop()) >= 0) {
                    q.finish = "stop";
                } else if (q.generated.size() >= q.options.maxTokens()) {
                    q.finish = "length";
                }
                if (q.finish != null) {
                    slots[b] = null;
                }
            }
            any |= slots[b] != null;
        }
        return any;
    }

    /**
     * Feeds the sequence in slot b all its known tokens but the last, a launch of {@link Gpt#prefillRows} rows at a
     * time; rows past the tokens repeat the last row (the same values written to the same place).
     */
    private void prefill(int b, Sequence q) {
        int rows = pre.B;
        for (int count; (count = Math.min(rows, q.history.size() - 1 - q.fed)) > 0; q.fed += count, q.position += count) {
            for (int r = 0; r < rows; r++) {
                int i = Math.min(r, count - 1);
                pre.tokens.set(r, q.history.get(q.fed + i));
                pre.pos.set(r, q.position + i);
                pre.slot.set(r, b);
            }
            session.run(prefill);
        }
    }

    /** One sequence in a sampler's slot: its prompt, what it has generated, and why it ended. */
    public static final class Sequence {
        private final Tokenizer tokenizer;
        private final Options options;
        private final SplittableRandom random;
        /** The prompt's tokens, then the generated ones. */
        private final List<Integer> history = new ArrayList<>();
        private final List<Integer> generated = new ArrayList<>();
        private final int promptTokens;
        /** The index in history of the next token to feed, and the cache position it goes to. */
        private int fed;
        private int position;
        private volatile String finish;
        /** Characters of text() handed out by pollText(). */
        private int polled;

        Sequence(int[] prompt, Tokenizer tokenizer, Options options, long seed) {
            this.tokenizer = tokenizer;
            this.options = options;
            this.random = new SplittableRandom(seed);
            for (int t : prompt) {
                history.add(t);
            }
            promptTokens = prompt.length;
        }

        public int promptTokens() {
            return promptTokens;
        }

        /** Tokens generated so far (the end-of-text token included, if it came). */
        public int generatedTokens() {
            return generated.size();
        }

        /** The text generated so far, without the end-of-text token, cut before the first stop text. */
        public String text() {
            List<Integer> out = new ArrayList<>(generated);
            if (!out.isEmpty() && out.getLast() == tokenizer.endOfText()) {
                out.removeLast();
            }
            String text = decodeText(tokenizer, out);
            int cut = stopAt(text, options.stop());
            return cut >= 0 ? text.substring(0, cut) : text;
        }

        /**
         * The text that became final since the last call: all the rest once the sequence has ended; while it
         * generates, all but what a stop text or an unfinished character may still change (the longest stop text less
         * one character, and a trailing replacement character: part of a character's bytes).
         */
        public String pollText() {
            String text = text();
            int safe = text.length();
            if (finish == null) {
                safe -= options.stop().stream().mapToInt(s -> Math.max(0, s.length() - 1)).max().orElse(0);
                while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') {
                    safe--;
                }
            }
            if (safe <= polled) {
                return "";
            }
            String delta = text.substring(polled, safe);
            polled = safe;
            return delta;
        }

        /** null while generating; then "stop" (the end-of-text token or a stop text), "length" or "cancelled". */
        public String finishReason() {
            return finish;
        }
    }

    private static String decodeText(Tokenizer tokenizer, List<Integer> tokens) {
        return tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Where the first stop text begins, or -1. */
    static int stopAt(String text, List<String> stop) {
        int cut = -1;
        for (String s : stop) {
            int i = s.isEmpty() ? -1 : text.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        return cut;
    }

    /** Samples a token from logits: temperature, then top-k, then top-p (nucleus), then a draw. */
    static int sample(float[] logits, Options o, SplittableRandom random) {
        int V = logits.length;
        if (o.temperature() == 0) {
            int best = 0;
            for (int v = 1; v < V; v++) {
                if (logits[v] > logits[best]) {
                    best = v;
                }
            }
            return best;
        }
        if (o.topK() == 0 && o.topP() >= 1) {
            return draw(logits, o.temperature(), random);
        }
        Integer[] order = new Integer[V];
        for (int v = 0; v < V; v++) {
            order[v] = v;
        }
        Arrays.sort(order, (x, y) -> Float.compare(logits[y], logits[x]));
        int keep = o.topK() > 0 ? Math.min(o.topK(), V) : V;
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / o.temperature());
            sum += p[i];
        }
        double mass = 0;
        int nucleus = keep;
        for (int i = 0; i < keep; i++) {
            mass += p[i] / sum;
            if (mass >= o.topP()) {
                nucleus = i + 1;
                break;
            }
        }
        double total = 0;
        for (int i = 0; i < nucleus; i++) {
            total += p[i];
        }
        double u = random.nextDouble() * total;
        for (int i = 0; i < nucleus; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }

    /** A draw from softmax(logits / temperature), the whole vocabulary: no order needed, so no sort of V logits. */
    private static int draw(float[] logits, float temperature, SplittableRandom random) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int v = 0; v < logits.length; v++) {
            p[v] = Math.exp((logits[v] - max) / temperature);
            sum += p[v];
        }
        double u = random.nextDouble() * sum;
        for (int v = 0; v < logits.length; v++) {
            u -= p[v];
            if (u < 0) {
                return v;
            }
        }
        return logits.length - 1;
    }

    @Override
    public void close() {
        session.close();
    }
}
