package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.ResidualCheck;
import dev.tgpt.kernels.ResidualReference;

class ResidualTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        double[] a = FiniteDifferences.random(r, 10);
        double[] b = FiniteDifferences.random(r, 10);
        double[] dout = FiniteDifferences.random(r, 10);
        double[] da = new double[10];
        double[] db = new double[10];
        ResidualReference.backward(dout, da, db);
        assertTrue(FiniteDifferences.relativeError(da,
                FiniteDifferences.gradient(a, v -> FiniteDifferences.dot(dout, ResidualReference.forward(v, b)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(db,
                FiniteDifferences.gradient(b, v -> FiniteDifferences.dot(dout, ResidualReference.forward(a, v)), 1e-5)) < 1e-8);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new ResidualCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
