package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.DropoutCheck;
import dev.tgpt.kernels.DropoutReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class DropoutTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** With the mask fixed by the seed, dropout is linear: the reference backward against central differences. */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        float p = 0.3f;
        double[] x = FiniteDifferences.random(r, 50);
        double[] dy = FiniteDifferences.random(r, x.length);
        double[] dx = new double[x.length];
        DropoutReference.backward(dy, dx, 99, 1, p);
        assertTrue(FiniteDifferences.relativeError(dx,
                FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, DropoutReference.forward(v, 99, 1, p)), 1e-5)) < 1e-8);
    }

    @Test
    void probabilityOutsideZeroToOneIsRefused() {
        FloatArray a = new FloatArray(1);
        IntArray seed = new IntArray(2);
        assertThrows(IllegalArgumentException.class, () -> DropoutOps.forward(a, a, seed, 0, 1f, 1));
        assertThrows(IllegalArgumentException.class, () -> DropoutOps.backward(a, a, seed, 0, -0.1f, 1));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new DropoutCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
