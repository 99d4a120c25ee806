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
import dev.tgpt.engine.check.DpoCheck;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.kernels.DpoReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class DpoTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * The reference backward against central differences of Σ_p w_p·loss_p with respect to every position's loss, two
     * pairs of T = 6 with masked positions. The loss is smooth; h = 1e-5 in double: truncation ~h² and rounding
     * ~1e-16/h, against gradients of order 0.01: allow 1e-7. Masked positions get exactly 0.
     */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(3);
        int B = 4, T = 6;
        double beta = 0.5;
        int[] targets = { -1, 4, 2, 7, -1, -1, -1, -1, 3, 3, 1, -1, -1, 0, 0, 0, 0, 0, -1, -1, -1, 9, -1, -1 };
        double[] losses = new double[B * T];
        for (int i = 0; i < losses.length; i++) {
            losses[i] = 0.5 + 3 * r.nextDouble();
        }
        double[] ref = { -5, -4, -7, -2 };
        double[] weights = { 0.3, 0.7 };
        double[] got = new double[B * T];
        DpoReference.backward(losses, targets, ref, beta, weights, B, T, got);
        double[] fd = FiniteDifferences.gradient(losses,
                l -> FiniteDifferences.dot(weights, DpoReference.pairLosses(l, targets, ref, beta, B, T)), 1e-5);
        assertTrue(FiniteDifferences.relativeError(got, fd) < 1e-7);
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] < 0) {
                assertEquals(0, got[i]);
            }
        }
    }

    /** Equal margins give log 2; the policy at the reference gives rewards 0 and log 2 whatever β. */
    @Test
    void referenceKnownValues() {
        int[] targets = { 1, 1, 1, 1 };
        double[] losses = { 1, 2, 3, 0.5 };
        // log π: −3 (chosen), −3.5 (rejected)
        assertEquals(Math.log(2), DpoReference.pairLosses(losses, targets, new double[] { -3, -3.5 }, 0.1, 2, 2)[0], 1e-15);
        assertEquals(Math.log1p(Math.exp(-0.05)), DpoReference.pairLosses(losses, targets, new double[] { -3, -3 }, 0.1, 2, 2)[0], 1e-15);
        assertEquals(-0.05, DpoReference.rewards(losses, targets, new double[] { -3, -3 }, 0.1, 2, 2)[1], 1e-15);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new DpoCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /**
     * The whole chain a DPO step runs, from logits to their gradient (cross-entropy, rewards, pair loss, back through
     * each), against TRL's loss in PyTorch autograd (fixtures/make_fixtures.py, float64): pair losses, rewards and
     * d mean loss / d logits. Tolerance as {@link DpoCheck}'s, 1e-4: float32 sums of per-token log-probabilities.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void matchesTrlInPyTorch(Backend backend) {
        try (Safetensors f = Fixtures.open("dpo")) {
            int P = Fixtures.meta(f, "P"), T = Fixtures.meta(f, "T"), V = Fixtures.meta(f, "V");
            int B = 2 * P, N = B * T;
            FloatArray logits = f.floats("logits");
            IntArray targets = f.ints("targets");
            FloatArray ref = f.floats("ref");
            FloatArray hyper = FloatArray.fromArray(new float[] { Float.parseFloat(f.metadata().get("beta")) });
            FloatArray losses = new FloatArray(N);
            FloatArray lse = new FloatArray(N);
            FloatArray rewards = new FloatArray(B);
            FloatArray pairLosses = new FloatArray(P);
            FloatArray drewards = new FloatArray(B);
            FloatArray dlosses = new FloatArray(N);
            FloatArray dlogits = new FloatArray(N * V);
            IntArray counts = new IntArray(P);
            counts.init(2);
            FloatArray weights = new FloatArray(P);
            weights.init(1f / P);
            List<dev.tgpt.engine.Launch> chain = List.of(CrossEntropyOps.forward(losses, lse, logits, targets, N, V),
                    DpoOps.rewards(rewards, losses, targets, ref, hyper, B, T), RankingOps.forward(pairLosses, rewards, counts, P, 2),
                    RankingOps.backward(drewards, rewards, counts, weights, P, 2), DpoOps.backward(dlosses, drewards, targets, hyper, B, T),
                    CrossEntropyOps.backward(dlogits, logits, lse, targets, dlosses, N, V));
            Checks.run(backend, chain, new Object[] { logits, targets, ref, hyper, counts, weights, drewards, dlosses, dlogits },
                    new Object[] { rewards, pairLosses, dlogits });
            PyTorchFixturesTest.close("DPO rewards", rewards, f.floats("rewards"), 1e-4);
            PyTorchFixturesTest.close("DPO pair losses", pairLosses, f.floats("losses"), 1e-4);
            PyTorchFixturesTest.close("DPO d loss / d logits", dlogits, f.floats("dlogits"), 1e-4);
        }
    }
}
