package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.UserError;

/** The loss through the decoding program (on each backend) equals the JVM's full forward pass's over the same windows. */
class DecodingLossTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void decodingGivesTheFullForwardPassLoss(Backend backend) {
        GptConfig c = new GptConfig(GptConfig.Style.GPT2, 13, 16, 2, 2, 32, 0f, 0);
        Parameters p = new Parameters(c);
        p.initialise(6);
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 10);
            }
        }
        Gpt gpt = new Gpt(c, p);
        int[] tokens = new Random(2).ints(200, 0, 13).toArray();
        int B = 3;
        int T = 16;
        double got = DecodingLoss.of(gpt, backend, tokens, B, T);

        // the same windows (evenly spaced starts) through the full forward pass; cross-entropy computed here in double
        Gpt.Activations full = gpt.activations(B, T);
        int span = tokens.length - (T + 1);
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                full.tokens.set(b * T + t, tokens[span * b / (B - 1) + t]);
                full.targets.set(b * T + t, tokens[span * b / (B - 1) + t + 1]);
            }
        }
        List<Object> state = new ArrayList<>();
        p.tensors().forEach(t -> state.add(t.data()));
        Program fwd = new Program("full").state(state.toArray()).inputs(full.tokens, full.targets).outputs(full.logits);
        gpt.forward(full, false).forEach(fwd::add);
        try (Session s = new JvmBackend().open(fwd)) {
            s.run(fwd);
        }
        double want = 0;
        int V = c.vocabSize();
        for (int n = 0; n < B * T; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, full.logits.get(n * V + v));
            }
            double z = 0;
            for (int v = 0; v < V; v++) {
                z += Math.exp(full.logits.get(n * V + v) - max);
            }
            want += max + Math.log(z) - full.logits.get(n * V + full.targets.get(n));
        }
        want /= B * T;
        // float logits from sums in another order: agreement to ~1e-5 of a loss of a few nats
        assertEquals(want, got, 1e-4);
        assertThrows(UserError.class, () -> DecodingLoss.of(gpt, new JvmBackend(), new int[10], 1, 16));
    }
}
