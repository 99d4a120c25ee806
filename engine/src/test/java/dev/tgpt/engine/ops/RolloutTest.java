package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.RolloutCheck;
import dev.tgpt.kernels.Rollout;
import dev.tgpt.kernels.RolloutReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class RolloutTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * The reference sampler over 20,000 seeds (one draw each, the same sequence and position) against softmax(z/τ), by
     * Pearson's χ² over V = 11 tokens (10 degrees of freedom): a correct sampler exceeds 35.56 with probability 1e-4.
     * The smallest expected count is above 100, where χ² is accurate. Sampling has no backward to difference.
     */
    @Test
    void referenceDrawsFromTheSoftmaxOverSeeds() {
        double[] logits = { 0.4, -1.0, 1.3, 0.0, -0.7, 1.2, -0.9, 0.9, 0.2, -0.1, 1.1 };
        int draws = 20_000;
        for (double temperature : new double[] { 1, 0.7 }) {
            int[] counts = new int[logits.length];
            for (int seed = 0; seed < draws; seed++) {
                counts[RolloutReference.sample(logits, seed, 3, 5, 8, temperature)]++;
            }
            double sum = 0;
            for (double z : logits) {
                sum += Math.exp(z / temperature);
            }
            double chi = 0;
            for (int v = 0; v < logits.length; v++) {
                double expected = draws * Math.exp(logits[v] / temperature) / sum;
                assertTrue(expected > 100);
                chi += (counts[v] - expected) * (counts[v] - expected) / expected;
            }
            assertTrue(chi < 35.56, "χ² " + chi + " at temperature " + temperature);
        }
    }

    /** Temperature 0 takes the first of the largest logits, whatever the seed. */
    @Test
    void temperatureZeroTakesTheArgmax() {
        double[] logits = { 0.5, 3, -1, 3, 2.9 };
        for (int seed = 0; seed < 100; seed++) {
            assertEquals(1, RolloutReference.sample(logits, seed, 0, 1, 2, 0));
        }
    }

    /**
     * The kernel's float noise against −log(−log(1 − u)) in double at every one of the 2^23 values u takes. Rounding
     * the noise itself to float costs up to half an ulp of 16.6 (1e-6), and each log a few ulp more: allow 3e-6.
     */
    @Test
    void gumbelNoiseIsAccurateEverywhere() {
        double worst = 0;
        for (int k = 0; k < 1 << 23; k++) {
            float u = (2 * k + 1) * 0x1p-24f;
            worst = Math.max(worst, Math.abs(Rollout.gumbel(u) + Math.log(-Math.log1p(-u))));
        }
        assertTrue(worst < 3e-6, "worst error " + worst);
    }

    @Test
    void endOfSequenceOutsideTheVocabularyIsRefused() {
        IntArray i = new IntArray(4);
        FloatArray f = new FloatArray(4);
        assertThrows(IllegalArgumentException.class, () -> RolloutOps.sample(i, f, i, i, i, f, 1, 2, 2, 2));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new RolloutCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
