package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.RankingCheck;
import dev.tgpt.kernels.RankingReference;

class RankingTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * The reference backward against central differences of Σ dloss·loss, K = 5, counts 5, 3, 2, 1, 0. The loss is
     * smooth; with h = 1e-5 in double the truncation error is ~h² ≈ 1e-10 and the rounding ~1e-16/h ≈ 1e-11 of
     * gradients of order 0.1: allow 1e-8. Slots past a prompt's count get exactly 0.
     */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int K = 5;
        int[] counts = { 5, 3, 2, 1, 0 };
        double[] rewards = FiniteDifferences.random(r, counts.length * K);
        double[] dlosses = FiniteDifferences.random(r, counts.length);
        double[] drewards = new double[rewards.length];
        RankingReference.backward(rewards, counts, dlosses, drewards, K);
        double[] fd = FiniteDifferences.gradient(rewards, v -> FiniteDifferences.dot(dlosses, RankingReference.forward(v, counts, K)), 1e-5);
        assertTrue(FiniteDifferences.relativeError(drewards, fd) < 1e-8);
        for (int p = 0; p < counts.length; p++) {
            for (int i = Math.max(counts[p], 0); i < K; i++) {
                assertEquals(0, drewards[p * K + i]);
            }
        }
    }

    /** Two responses: −log σ(r0 − r1); equal rewards: log 2 whatever k; a gap of 100 neither overflows nor loses it. */
    @Test
    void referenceKnownValues() {
        assertEquals(Math.log1p(Math.exp(-1)), RankingReference.forward(new double[] { 1, 0 }, new int[] { 2 }, 2)[0], 1e-15);
        assertEquals(Math.log(2), RankingReference.forward(new double[] { 3, 3, 3, 3 }, new int[] { 4 }, 4)[0], 1e-15);
        assertEquals(100, RankingReference.forward(new double[] { -50, 50 }, new int[] { 2 }, 2)[0], 1e-12);
        assertEquals(0, RankingReference.forward(new double[] { 1, 2 }, new int[] { 1 }, 2)[0]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new RankingCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
