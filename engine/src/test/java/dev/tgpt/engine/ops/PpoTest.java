package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleBinaryOperator;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.PpoCheck;
import dev.tgpt.kernels.PpoReference;

/**
 * PPO's reference backward passes against central differences of their forward passes, at 9 positions: both signs of
 * the advantage, each side of the clip range and inside it, and a masked position (weight 0). The losses are piecewise
 * smooth; every input is at least 0.03 from a kink, far beyond h = 1e-6, so the differences see one piece: truncation
 * ~h² and rounding ~1e-16/h ≈ 1e-10 of gradients of order 0.1. Allow 1e-8.
 */
class PpoTest {

    static final double EPS = 0.2;
    static final double[] WEIGHTS = { 0.1, 0.1, 0.1, 0.1, 0, 0.1, 0.1, 0.1, 0.1 };

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @Test
    void policyBackwardMatchesFiniteDifferences() {
        // log-ratios: below, inside and above [log 0.8, log 1.2] = [−0.223, 0.182], for A > 0 and A < 0
        double[] logRatios = { -0.5, -0.05, 0.3, -0.35, 0, 0.1, 0.25, -0.1, 0.45 };
        double[] advantages = { 1.5, 0.7, 1.2, -0.8, 2, -1.1, -0.6, -1.3, 0.9 };
        double[] losses = { 2.5, 0.3, 4.1, 1.7, -200, 0.9, 3.3, 6.2, 1.1 };
        double[] oldLogp = combine(losses, logRatios, (loss, logRatio) -> -loss - logRatio);
        double[] dlosses = new double[losses.length];
        PpoReference.policyBackward(losses, oldLogp, advantages, WEIGHTS, EPS, dlosses);
        assertMatchesFiniteDifferences(dlosses, losses, l -> sum(PpoReference.policyForward(l, oldLogp, advantages, WEIGHTS, EPS)));
        // clipped, with no gradient: a ratio above the range with A > 0, below it with A < 0; and the masked position
        assertZeroAt(dlosses, 2, 3, 4);
        assertNonZeroAt(dlosses, 0, 1, 6);
    }

    @Test
    void valueBackwardMatchesFiniteDifferences() {
        double[] oldValues = { 0.5, -1, 0.2, 1.5, 0, -0.3, 0.8, -2, 1 };
        // v − old: outside ±ε (both sides), inside
        double[] moves = { 0.5, -0.45, 0.1, -0.5, 0, 0.35, -0.05, 0.6, -0.3 };
        double[] returns = { 2, -0.2, 0.4, 0.5, 7, -1.5, 0.3, -1, 1.6 };
        double[] values = combine(oldValues, moves, Double::sum);
        double[] dvalues = new double[values.length];
        PpoReference.valueBackward(values, oldValues, returns, WEIGHTS, EPS, dvalues);
        assertMatchesFiniteDifferences(dvalues, values, v -> sum(PpoReference.valueForward(v, oldValues, returns, WEIGHTS, EPS)));
        // v moved beyond the clip range towards its return: the clipped square is the larger, and constant in v; masked
        assertZeroAt(dvalues, 0, 3, 4, 7);
        // moved beyond it away from the return, and inside it: through v − R
        assertNonZeroAt(dvalues, 1, 2, 5);
    }

    /** Uniform logits: log V; one logit far above the rest: ~0; logits shifted by −100: the same entropy. */
    @Test
    void referenceEntropyKnownValues() {
        assertEquals(Math.log(1001), PpoReference.entropy(new double[1001], 1, 1001)[0], 1e-12);
        assertEquals(0, PpoReference.entropy(new double[] { 100, 0, 0 }, 1, 3)[0], 1e-40);
        double[] logits = { 0.3, -1.2, 2.5, 0.7, -0.4 };
        double[] shifted = new double[logits.length];
        for (int v = 0; v < logits.length; v++) {
            shifted[v] = logits[v] - 100;
        }
        assertEquals(PpoReference.entropy(logits, 1, 5)[0], PpoReference.entropy(shifted, 1, 5)[0], 1e-12);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new PpoCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    private static void assertMatchesFiniteDifferences(double[] gradient, double[] x, ToDoubleFunction<double[]> loss) {
        assertTrue(FiniteDifferences.relativeError(gradient, FiniteDifferences.gradient(x, loss, 1e-6)) < 1e-8);
    }

    private static void assertZeroAt(double[] g, int... at) {
        for (int i : at) {
            assertEquals(0, g[i], "at " + i);
        }
    }

    private static void assertNonZeroAt(double[] g, int... at) {
        for (int i : at) {
            assertNotEquals(0, g[i], "at " + i);
        }
    }

    private static double[] combine(double[] a, double[] b, DoubleBinaryOperator f) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = f.applyAsDouble(a[i], b[i]);
        }
        return c;
    }

    private static double sum(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x;
        }
        return s;
    }
}
