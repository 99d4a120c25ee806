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
import dev.tgpt.engine.check.CrossEntropyCheck;
import dev.tgpt.kernels.CrossEntropyReference;

class CrossEntropyTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** The reference backward against central differences of Σ dloss·loss, with an ignored row. */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int N = 4;
        int V = 5;
        int[] targets = { 2, 0, -1, 4 };
        double[] logits = FiniteDifferences.random(r, N * V);
        double[] dloss = FiniteDifferences.random(r, N);
        double[] dlogits = new double[N * V];
        CrossEntropyReference.backward(logits, targets, dloss, dlogits, N, V);
        double[] fd = FiniteDifferences.gradient(logits, v -> FiniteDifferences.dot(dloss, CrossEntropyReference.forward(v, targets, N, V)), 1e-5);
        assertTrue(FiniteDifferences.relativeError(dlogits, fd) < 1e-8);
        for (int j = 0; j < V; j++) {
            assertEquals(0, dlogits[2 * V + j]);
        }
    }

    /** Uniform logits over V give loss log V; a huge logit does not overflow. */
    @Test
    void referenceKnownValues() {
        assertEquals(Math.log(50257), CrossEntropyReference.forward(new double[50257], new int[] { 123 }, 1, 50257)[0], 1e-12);
        assertEquals(1000, CrossEntropyReference.forward(new double[] { 1000, 0 }, new int[] { 1 }, 1, 2)[0], 1e-9);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new CrossEntropyCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
