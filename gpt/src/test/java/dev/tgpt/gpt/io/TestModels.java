package dev.tgpt.gpt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.GptConfig;

/** Small models with every value random (biases and norms too), and comparisons. */
final class TestModels {

    /** GPT-2's vocabulary at toy width: what llm.c and HF's GPT-2 files need, still small (50,257 × 8 floats). */
    static final GptConfig GPT2_VOCAB = new GptConfig(GptConfig.Style.GPT2, 50257, 16, 2, 2, 8, 0.1f, 0);

    private TestModels() {
    }

    static Parameters random(GptConfig config, long seed) {
        Parameters p = new Parameters(config);
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, (float) r.nextDouble(-1, 1));
            }
        }
        return p;
    }

    static void assertSameParameters(Parameters expected, Parameters actual) {
        assertEquals(expected.config.withDropout(0), actual.config.withDropout(0));
        assertEquals(expected.tensors().size(), actual.tensors().size());
        for (Parameters.Tensor t : expected.tensors()) {
            assertArrayEquals(t.data().toHeapArray(), actual.tensor(t.name()).data().toHeapArray(), t.name());
        }
    }
}
