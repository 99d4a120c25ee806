package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.CharTokenizer;

class SamplerTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    static Gpt model(GptConfig.Style style) {
        GptConfig c = new GptConfig(style, 11, 12, 2, 2, 8, 0f, 3);
        Parameters p = new Parameters(c);
        p.initialise(9);
        // larger weights than GPT-2's init, so that the logits differ clearly from position to position
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 20);
            }
        }
        return new Gpt(c, p);
    }

    /** KV-cache decoding gives, position by position, the logits of a full forward pass (GPT-2, GPT-1, GPT-3 banded). */
    @ParameterizedTest
    @MethodSource("backends")
    void decodingMatchesTheFullForwardPass(Backend backend) {
        for (GptConfig.Style style : GptConfig.Style.values()) {
            Gpt gpt = model(style);
            int T = 12;
            int V = gpt.config.vocabSize();
            int[] tokens = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 };
            Gpt.Activations full = gpt.activations(1, T);
            for (int t = 0; t < T; t++) {
                full.tokens.set(t, tokens[t]);
                full.targets.set(t, 0);
            }
            List<Object> state = new java.util.ArrayList<>();
            gpt.params.tensors().forEach(t -> state.add(t.data()));
            Program fwd = new Program("full").state(state.toArray()).inputs(full.tokens, full.targets).outputs(full.logits);
            gpt.forward(full, false).forEach(fwd::add);
            Gpt.Activations dec = gpt.decoder(1);
            List<Object> decState = new java.util.ArrayList<>(state);
            decState.addAll(dec.buffers());
            Program step = new Program("step").state(decState.toArray()).inputs(dec.tokens, dec.pos).outputs(dec.logits);
            gpt.forward(dec, false).forEach(step::add);
            try (Session s = backend.open(fwd, step)) {
                s.run(fwd);
                for (int t = 0; t < T; t++) {
                    dec.tokens.set(0, tokens[t]);
                    dec.pos.set(0, t);
                    s.run(step);
                    for (int v = 0; v < V; v++) {
                        // float32 sums in another order (a decoding step's matrix-vector products against the full pass's
                        // blocked ones), through weights 20 times GPT-2's: agreement to 2e-5 of the logit's size (1.2e-5 seen)
                        float want = full.logits.get(t * V + v);
                        assertEquals(want, dec.logits.get(v), Math.max(1e-4, 2e-5 * Math.abs(want)), style + " position " + t);
                    }
                }
            }
        }
    }

    /**
     * Prompts longer than a prefill launch (64 rows: 140 tokens take three, the last padded) in two slots: greedy
     * tokens equal those of the full forward pass run anew on each growing sequence, without a cache.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void prefilledPromptsGiveTheFullForwardPassTokens(Backend backend) {
        GptConfig c = new GptConfig(GptConfig.Style.GPT2, 11, 150, 2, 2, 8, 0f, 0);
        Parameters p = new Parameters(c);
        p.initialise(5);
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 20);
            }
        }
        Gpt gpt = new Gpt(c, p);
        CharTokenizer tok = CharTokenizer.of("abcdefghij\n");
        SplittableRandom r = new SplittableRandom(3);
        List<String> prompts = List.of(tok.decode(r.ints(140, 0, 10).toArray()), tok.decode(r.ints(70, 0, 10).toArray()));
        int tokens = 6;
        List<String> got;
        try (Sampler s = new Sampler(gpt, backend, 2)) {
            got = s.generate(prompts, tok, new Sampler.Options(tokens, 0f, 0, 1f, List.of(), 1));
        }
        for (int i = 0; i < prompts.size(); i++) {
            List<Integer> seq = new java.util.ArrayList<>();
            for (int t : tok.encode(prompts.get(i))) {
                seq.add(t);
            }
            StringBuilder want = new StringBuilder();
            for (int n = 0; n < tokens; n++) {
                int next = greedyNext(gpt, backend, seq);
                seq.add(next);
                want.append(tok.decode(new int[] { next }));
            }
            assertEquals(want.toString(), got.get(i), "prompt " + i);
        }
    }

    /** The argmax of the full forward pass's last row over seq. */
    static int greedyNext(Gpt gpt, Backend backend, List<Integer> seq) {
        int T = seq.size();
        int V = gpt.config.vocabSize();
        Gpt.Activations full = gpt.activations(1, T);
        for (int t = 0; t < T; t++) {
            full.tokens.set(t, seq.get(t));
            full.targets.set(t, 0);
        }
        List<Object> state = new java.util.ArrayList<>();
        gpt.params.tensors().forEach(t -> state.add(t.data()));
        Program fwd = new Program("full").state(state.toArray()).inputs(full.tokens, full.targets).outputs(full.logits);
        gpt.forward(full, false).forEach(fwd::add);
        try (Session s = backend.open(fwd)) {
            s.run(fwd);
        }
        int best = 0;
        for (int v = 1; v < V; v++) {
            if (full.logits.get((T - 1) * V + v) > full.logits.get((T - 1) * V + best)) {
                best = v;
            }
        }
        return best;
    }

    @Test
    void generatesPastTheContextAndStopsWhereAsked() {
        Gpt gpt = model(GptConfig.Style.GPT2);
        CharTokenizer tok = CharTokenizer.of("abcdefghij\n");
        try (Sampler s = new Sampler(gpt, new JvmBackend(), 2)) {
            List<String> out = s.generate(List.of("ab", "abcdef"), tok, new Sampler.Options(40, 1f, 0, 1f, List.of(), 1));
            assertEquals(40, out.get(0).length(), "40 tokens, over three times the context of 12");
            assertEquals(40, out.get(1).length());
            List<String> stopped = s.generate(List.of("a"), tok, new Sampler.Options(40, 1f, 0, 1f, List.of("c"), 1));
            assertTrue(!stopped.getFirst().contains("c") && stopped.getFirst().length() < 40 || stopped.getFirst().length() == 40,
                    stopped.getFirst());
        }
    }

    @Test
    void aSeedFixesTheSample() {
        Gpt gpt = model(GptConfig.Style.GPT2);
        CharTokenizer tok = CharTokenizer.of("abcdefghij\n");
        try (Sampler s = new Sampler(gpt, new JvmBackend(), 1)) {
            Sampler.Options o = new Sampler.Options(30, 0.9f, 5, 0.9f, List.of(), 77);
            assertEquals(s.generate(List.of("ab"), tok, o), s.generate(List.of("ab"), tok, o));
        }
    }

    @Test
    void badPromptsAreUserErrors() {
        Gpt gpt = model(GptConfig.Style.GPT2);
        CharTokenizer tok = CharTokenizer.of("abcdefghij\n");
        try (Sampler s = new Sampler(gpt, new JvmBackend(), 1)) {
            Sampler.Options o = new Sampler.Options(5, 1f, 0, 1f, List.of(), 1);
            UserError tooLong = assertThrows(UserError.class, () -> s.generate(List.of("abcdefghijabc"), tok, o));
            assertTrue(tooLong.getMessage().contains("the model's context is 12"), tooLong.getMessage());
            assertThrows(UserError.class, () -> s.generate(List.of(""), tok, o));
            assertThrows(UserError.class, () -> s.generate(List.of("xyz"), tok, o));
        }
        assertThrows(UserError.class, () -> new Sampler.Options(5, -1f, 0, 1f, List.of(), 1));
        assertThrows(UserError.class, () -> new Sampler.Options(5, 1f, 0, 0f, List.of(), 1));
    }

    @Test
    void topKAndTopPKeepOnlyTheMostLikelyTokens() {
        float[] logits = { 0f, 5f, 4f, -3f, 4.5f };
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 200; i++) {
            int k = Sampler.sample(logits, new Sampler.Options(1, 1f, 2, 1f, List.of(), 1), r);
            assertTrue(k == 1 || k == 4, "top-2 keeps tokens 1 and 4, not " + k);
            int p = Sampler.sample(logits, new Sampler.Options(1, 1f, 0, 0.5f, List.of(), 1), r);
            assertEquals(1, p, "the most likely token alone has probability above 0.5");
        }
        assertEquals(1, Sampler.sample(logits, new Sampler.Options(1, 0f, 0, 1f, List.of(), 1), r), "temperature 0 is greedy");
    }

    /**
     * The whole distribution (no top-k, no top-p) at temperatures 1 and 2, against its probabilities: 70,000 draws,
     * each frequency within 0.01 of softmax(logits / τ) (five standard deviations of a proportion near 0.5 is 0.009).
     */
    @Test
    void drawsFollowTheSoftmax() {
        float[] logits = { 0f, (float) Math.log(2), (float) Math.log(4) };
        SplittableRandom r = new SplittableRandom(2);
        for (float t : new float[] { 1f, 2f }) {
            double[] want = new double[3];
            double sum = 0;
            for (int v = 0; v < 3; v++) {
                want[v] = Math.exp(logits[v] / t);
                sum += want[v];
            }
            int[] count = new int[3];
            int n = 70_000;
            for (int i = 0; i < n; i++) {
                count[Sampler.sample(logits, new Sampler.Options(1, t, 0, 1f, List.of(), 1), r)]++;
            }
            for (int v = 0; v < 3; v++) {
                assertEquals(want[v] / sum, count[v] / (double) n, 0.01, "token " + v + " at temperature " + t);
            }
        }
    }
}
