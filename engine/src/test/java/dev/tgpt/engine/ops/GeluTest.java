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
import dev.tgpt.engine.check.GeluCheck;
import dev.tgpt.kernels.GeluReference;

class GeluTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        double[] x = FiniteDifferences.random(r, 20);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 4;
        }
        double[] dy = FiniteDifferences.random(r, x.length);
        double[] dx = new double[x.length];
        GeluReference.backward(dy, x, dx);
        assertTrue(FiniteDifferences.relativeError(dx, FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, GeluReference.forward(v)), 1e-5)) < 1e-8);
    }

    /** Values of the tanh formula computed independently (Python's math module, double). */
    @Test
    void referenceMatchesKnownValues() {
        double[] y = GeluReference.forward(new double[] { -3, -1, 0, 0.5, 2 });
        double[] want = { -0.0036373920817729943, -0.15880800939172324, 0, 0.34571400982514394, 1.954597694087775 };
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], y[i], 1e-12);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new GeluCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
