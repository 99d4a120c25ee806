package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.SoftmaxCheck;
import dev.tgpt.kernels.SoftmaxReference;

class SoftmaxTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** The reference backward against central differences of the reference forward, causal and not. */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int T = 4;
        int N = 2 * T;
        double scale = 0.7;
        for (boolean causal : new boolean[] { false, true }) {
            double[] x = FiniteDifferences.random(r, N * T);
            double[] dy = FiniteDifferences.random(r, N * T);
            double[] dx = new double[N * T];
            SoftmaxReference.backward(dy, x, dx, scale, N, T, causal);
            double[] fd = FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, SoftmaxReference.forward(v, scale, N, T, causal)), 1e-5);
            assertTrue(FiniteDifferences.relativeError(dx, fd) < 1e-7);
        }
    }

    /** Rows sum to 1; masked columns are 0 and get no gradient. */
    @Test
    void referenceMasksFutureColumns() {
        int T = 3;
        double[] y = SoftmaxReference.forward(FiniteDifferences.random(new Random(3), T * T), 1, T, T, true);
        for (int t = 0; t < T; t++) {
            double sum = 0;
            for (int j = 0; j < T; j++) {
                sum += y[t * T + j];
                if (j > t) {
                    assertEquals(0, y[t * T + j]);
                }
            }
            assertEquals(1, sum, 1e-12);
        }
    }

    @Test
    void workGroupsAreThePowerOfTwoThatCoversARow() {
        assertEquals(1, SoftmaxOps.groupSize(1));
        assertEquals(2, SoftmaxOps.groupSize(2));
        assertEquals(8, SoftmaxOps.groupSize(5));
        assertEquals(64, SoftmaxOps.groupSize(64));
        assertEquals(256, SoftmaxOps.groupSize(257));
        assertEquals(256, SoftmaxOps.groupSize(1024));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new SoftmaxCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
