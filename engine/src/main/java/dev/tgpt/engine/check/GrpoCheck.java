package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.GrpoOps;
import dev.tgpt.kernels.Grpo;
import dev.tgpt.kernels.GrpoReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GRPO's k3 KL penalty against {@link GrpoReference}, β = 0.04 (TRL's default), log-ratios ref − logp in [−2, 2] (a
 * policy that has moved far). Every fourth position has weight 0 and inputs whose e^d overflows: it must give exactly
 * 0 and add nothing. Gradients start non-zero, so the check sees that backward adds. Tolerance: d is a float32 sum
 * of two log-probabilities up to 8 (~5e-7 absolute), then the penalty, by its series near 0 (so a single small value,
 * N = 1, is as exact as a large one) and by e^d beyond: a few ulp, and a relaxed-math device's exp a few more; allow
 * 1e-5.
 */
public final class GrpoCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 65_537 };
    static final float BETA = 0.04f;

    @Override
    public String op() {
        return "grpo";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(31);
        FloatArray hyper = new FloatArray(Grpo.HYPER_SIZE);
        hyper.set(Grpo.BETA, BETA);
        for (int N : SIZES) {
            String shape = "N=" + N + " beta=" + BETA;
            FloatArray weights = new FloatArray(N);
            FloatArray losses = new FloatArray(N);
            FloatArray refLogp = new FloatArray(N);
            for (int n = 0; n < N; n++) {
                boolean masked = n % 4 == 3;
                weights.set(n, masked ? 0f : 1f / N);
                losses.set(n, masked ? 200f : 0.5f + 7.5f * r.nextFloat());
                refLogp.set(n, masked ? 0f : -losses.get(n) + 4 * r.nextFloat() - 2);
            }
            double[] w = Checks.toDouble(weights);
            double[] l = Checks.toDouble(losses);
            double[] ref = Checks.toDouble(refLogp);
            FloatArray kl = new FloatArray(N);
            FloatArray dlosses = Checks.random(r, N, 1f / N);
            double[] want = Checks.toDouble(dlosses);
            Checks.run(backend, List.of(GrpoOps.klForward(kl, losses, refLogp, weights, hyper, N), GrpoOps.klBackward(dlosses, losses, refLogp, weights,
                    hyper, N)), new Object[] { losses, refLogp, weights, hyper, dlosses }, new Object[] { kl, dlosses });
            GrpoReference.klBackward(l, ref, w, BETA, want);
            results.add(new CheckResult(op(), "kl forward", shape, Checks.error(kl, GrpoReference.klForward(l, ref, w, BETA)), 1e-5));
            results.add(new CheckResult(op(), "kl backward", shape, Checks.error(dlosses, want), 1e-5));
        }
        return results;
    }
}
