package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.Fixtures;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.GrpoCheck;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.kernels.GrpoReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class GrpoTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * The reference backward against central differences of Σ kl with respect to the losses. Smooth; h = 1e-5 in
     * double: truncation ~h², rounding ~1e-16/h, against gradients of order 0.1: allow 1e-8. Weight 0: exactly 0.
     */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(5);
        int N = 9;
        double[] losses = new double[N];
        double[] ref = new double[N];
        double[] weights = new double[N];
        for (int n = 0; n < N; n++) {
            losses[n] = 0.5 + 3 * r.nextDouble();
            ref[n] = -losses[n] + 2 * r.nextDouble() - 1;
            weights[n] = n == 4 ? 0 : 1.0 / N;
        }
        double[] got = new double[N];
        GrpoReference.klBackward(losses, ref, weights, 0.5, got);
        double[] fd = FiniteDifferences.gradient(losses, l -> sum(GrpoReference.klForward(l, ref, weights, 0.5)), 1e-5);
        assertTrue(FiniteDifferences.relativeError(got, fd) < 1e-8);
        assertEquals(0, got[4]);
    }

    /** k3 is 0 where the policy is the reference, e − 2 at a log-ratio of 1, and never negative. */
    @Test
    void referenceKnownValues() {
        double[] w = { 1, 1, 1 };
        double[] kl = GrpoReference.klForward(new double[] { 2, 2, 2 }, new double[] { -2, -1, -3 }, w, 1);
        assertEquals(0, kl[0], 0);
        assertEquals(Math.E - 2, kl[1], 1e-15);
        assertEquals(Math.exp(-1), kl[2], 1e-15);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new GrpoCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /**
     * GRPO's per-token objective as a step runs it (cross-entropy; PPO's clipped objective with one advantage per
     * sequence; the k3 penalty; back through each to the logits), against TRL's loss in PyTorch autograd
     * (fixtures/make_fixtures.py, float64): the mean loss and d loss / d logits. Tolerance 1e-5, as
     * {@link dev.tgpt.engine.check.PpoCheck}'s: exp of float32 log-ratios.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void matchesTrlInPyTorch(Backend backend) {
        try (Safetensors f = Fixtures.open("grpo")) {
            int B = Fixtures.meta(f, "B"), T = Fixtures.meta(f, "T"), V = Fixtures.meta(f, "V");
            int N = B * T;
            FloatArray logits = f.floats("logits");
            IntArray targets = f.ints("targets");
            FloatArray clip = FloatArray.fromArray(new float[] { Float.parseFloat(f.metadata().get("eps")) });
            FloatArray beta = FloatArray.fromArray(new float[] { Float.parseFloat(f.metadata().get("beta")) });
            FloatArray weights = new FloatArray(N);
            int count = 0;
            for (int n = 0; n < N; n++) {
                count += targets.get(n) >= 0 ? 1 : 0;
            }
            for (int n = 0; n < N; n++) {
                weights.set(n, targets.get(n) >= 0 ? 1f / count : 0f);
            }
            FloatArray losses = new FloatArray(N);
            FloatArray lse = new FloatArray(N);
            FloatArray objective = new FloatArray(N);
            FloatArray kl = new FloatArray(N);
            FloatArray dlosses = new FloatArray(N);
            FloatArray dlogits = new FloatArray(N * V);
            FloatArray old = f.floats("old");
            FloatArray ref = f.floats("ref");
            FloatArray advantages = f.floats("advantages");
            List<dev.tgpt.engine.Launch> chain = List.of(CrossEntropyOps.forward(losses, lse, logits, targets, N, V),
                    PpoOps.policyForward(objective, losses, old, advantages, weights, clip, N), GrpoOps.klForward(kl, losses, ref, weights, beta, N),
                    PpoOps.policyBackward(dlosses, losses, old, advantages, weights, clip, N), GrpoOps.klBackward(dlosses, losses, ref, weights, beta, N),
                    CrossEntropyOps.backward(dlogits, logits, lse, targets, dlosses, N, V));
            Checks.run(backend, chain, new Object[] { logits, targets, old, ref, advantages, weights, clip, beta, dlosses, dlogits },
                    new Object[] { objective, kl, dlogits });
            double loss = sum(Checks.toDouble(objective)) + sum(Checks.toDouble(kl));
            assertEquals(f.floats("loss").get(0), loss, 1e-5 * Math.max(1, Math.abs(loss)));
            PyTorchFixturesTest.close("GRPO d loss / d logits", dlogits, f.floats("dlogits"), 1e-5);
        }
    }

    private static double sum(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s;
    }
}
