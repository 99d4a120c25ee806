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
 * Generates text with a KV cache: each step runs one decoding program (one position of B sequences) on the device,
 * and samples the next tokens from the logits it returns. The prompt goes through the same program a token at a
 * time, so a generation compiles each kernel once, whatever the prompt's length. Past the context, the cache is
 * rebuilt from the latest half of the context and generation goes on (positions are learned, so they restart at 0).
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
    private final Session session;

    public Sampler(Gpt model, Backend backend, int batch) {
        this.model = model;
        MemoryPlan.decoding(model.config, batch).checkFree("sampling", "sample fewer sequences at once");
        this.act = model.decoder(batch);
        List<Object> state = new ArrayList<>();
        model.params.tensors().forEach(t -> state.add(t.data()));
        state.addAll(act.buffers());
        decode = new Program("decode").state(state.toArray()).inputs(act.tokens, act.pos).outputs(act.logits);
        model.forward(act, false).forEach(decode::add);
        session = backend.open(decode);
    }

    /** Continues each prompt (at most the sampler's batch of them); returns the texts generated after the prompts. */
    public List<String> generate(List<String> prompts, Tokenizer tokenizer, Options o) {
        int B = act.B;
        if (prompts.isEmpty() || prompts.size() > B) {
            throw new IllegalArgumentException("between 1 and " + B + " prompts, not " + prompts.size());
        }
        int V = model.config.vocabSize();
        int context = model.config.context();
        int[][] prompt = new int[B][];
        for (int b = 0; b < B; b++) {
            prompt[b] = b < prompts.size() ? tokenizer.encode(prompts.get(b)) : prompt[0];
            if (prompt[b].length == 0) {
                throw new UserError("prompt " + (b + 1) + " is empty: give at least one token of text");
            }
            if (prompt[b].length >= context) {
                throw new UserError("prompt " + (b + 1) + " has " + prompt[b].length + " tokens; the model's context is " + context
                        + ", so a prompt may have at most " + (context - 1));
            }
            for (int t : prompt[b]) {
                if (t < 0 || t >= V) {
                    throw new UserError("prompt " + (b + 1) + " has token id " + t + ", outside the model's vocabulary of " + V);
                }
            }
        }
        SplittableRandom random = new SplittableRandom(o.seed());
        List<List<Integer>> generated = new ArrayList<>();
        boolean[] done = new boolean[B];
        for (int b = 0; b < B; b++) {
            generated.add(new ArrayList<>());
            done[b] = b >= prompts.size();
        }
        int[] next = new int[B];
        float[] row = new float[V];
        // history[b]: every token of sequence b so far; the cache holds the last `filled` of them at positions 0..filled-1
        List<List<Integer>> history = new ArrayList<>();
        int longest = 0;
        for (int b = 0; b < B; b++) {
            List<Integer> h = new ArrayList<>();
            for (int t : prompt[b]) {
                h.add(t);
            }
            history.add(h);
            longest = Math.max(longest, prompt[b].length);
        }
        int steps = longest - 1 + o.maxTokens();
        int p = 0; // the cache position the next step writes
        int offset = 0; // index in history of the token at cache position 0
        for (int step = 0; step < steps; step++) {
            if (p == context) {
                // the cache is full: re-encode the `keep` tokens before the next one from position 0, and go on from there
                int keep = Math.max(0, context / 2 - 1);
                offset += context - keep;
                for (p = 0; p < keep; p++) {
                    feed(history, offset + p, p);
                }
            }
            int index = offset + p; // the history index of the token this step feeds
            boolean any = false;
            for (int b = 0; b < B; b++) {
                any |= !done[b];
            }
            if (!any) {
                break;
            }
            feed(history, index, p);
            p++;
            for (int b = 0; b < B; b++) {
                if (done[b] || index < prompt[b].length - 1) {
                    continue;
                }
                for (int v = 0; v < V; v++) {
                    row[v] = act.logits.get(b * V + v);
                }
                next[b] = sample(row, o, random);
                List<Integer> out = generated.get(b);
                out.add(next[b]);
                history.get(b).add(next[b]);
                String text = decodeText(tokenizer, out);
                if (next[b] == tokenizer.endOfText() || stopAt(text, o.stop()) >= 0 || out.size() >= o.maxTokens()) {
                    done[b] = true;
                }
            }
            for (int b = 0; b < B; b++) {
                // a finished (or waiting) sequence repeats its last token so that the batch stays in step
                if (history.get(b).size() <= index + 1) {
                    history.get(b).add(history.get(b).get(index));
                }
            }
        }
        List<String> texts = new ArrayList<>();
        for (int b = 0; b < prompts.size(); b++) {
            List<Integer> out = generated.get(b);
            if (!out.isEmpty() && out.getLast() == tokenizer.endOfText()) {
                out.removeLast();
            }
            String text = decodeText(tokenizer, out);
            int cut = stopAt(text, o.stop());
            texts.add(cut >= 0 ? text.substring(0, cut) : text);
        }
        return texts;
    }

    /** Runs the decoding program on every sequence's history token {@code index}, at cache position {@code pos}. */
    private void feed(List<List<Integer>> history, int index, int pos) {
        for (int b = 0; b < act.B; b++) {
            act.tokens.set(b, history.get(b).get(index));
        }
        act.pos.set(0, pos);
        session.run(decode);
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

    @Override
    public void close() {
        session.close();
    }
}
