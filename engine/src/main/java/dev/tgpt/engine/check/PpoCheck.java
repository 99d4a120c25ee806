package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.engine.ops.PpoOps;
import dev.tgpt.kernels.Ppo;
import dev.tgpt.kernels.PpoReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * PPO's losses against {@link PpoReference}, ε = 0.2, both signs of the advantage, ratios and values on both sides of
 * their clip ranges. Inputs stay 1e-3 away from the kinks (ratio 1 ± ε; |v − old| = ε; the two squares equal), where
 * forward is continuous but backward jumps, so that float32 and double take the same branch. Every fourth position
 * has weight 0 and inputs that overflow (r = exp(200), v = 3e20): it must give exactly 0 and add nothing.
 * Gradients start non-zero, so the check sees that backward adds. Tolerances:
 * <ul>
 * <li>policy: r = exp(−loss − old) with losses up to 8: the float32 subtraction carries ~5e-7, so does r, and a
 * relaxed-math device's exp a few ulp more; allow 1e-5.
 * <li>value: a clamp, subtractions and squares, a few ulp; allow 1e-6.
 * <li>entropy: after {@link CrossEntropyOps#forward} in the same program, which supplies lse (as in training); float32
 * sums over chunks of 64 logits, then over the chunks (4e-7 of H at V = 50,257 on the JVM), and lse's own rounding,
 * which the kernel's G/S + log S cancels; allow 1e-5. Row 0 has one logit raised by 12
 * (a peaked softmax), row 1 logits near −100 as GPT-2's are.
 * </ul>
 */
public final class PpoCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 65_537 };
    /** { N, V }. */
    static final int[][] ENTROPY_SHAPES = { { 5, 7 }, { 4, 1001 }, { 3, 50257 } };
    static final float EPS = 0.2f;
    static final double MARGIN = 1e-3;

    @Override
    public String op() {
        return "ppo";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(23);
        FloatArray hyper = new FloatArray(Ppo.HYPER_SIZE);
        hyper.set(Ppo.CLIP, EPS);
        for (int N : SIZES) {
            String shape = "N=" + N + " eps=" + EPS;
            FloatArray weights = new FloatArray(N);
            FloatArray losses = new FloatArray(N);
            FloatArray oldLogp = new FloatArray(N);
            FloatArray advantages = Checks.random(r, N, 2f);
            FloatArray values = new FloatArray(N);
            FloatArray oldValues = Checks.random(r, N, 2f);
            FloatArray returns = Checks.random(r, N, 2f);
            for (int n = 0; n < N; n++) {
                boolean masked = n % 4 == 3;
                weights.set(n, masked ? 0f : 1f / N);
                losses.set(n, masked ? -200f : 0.5f + 7.5f * r.nextFloat());
                oldLogp.set(n, masked ? 0f : -losses.get(n) - logRatio(r));
                values.set(n, masked ? 3e20f : value(r, oldValues.get(n), returns.get(n)));
            }
            double[] w = Checks.toDouble(weights);
            double[] l = Checks.toDouble(losses);
            double[] old = Checks.toDouble(oldLogp);
            double[] a = Checks.toDouble(advantages);
            double[] v = Checks.toDouble(values);
            double[] ov = Checks.toDouble(oldValues);
            double[] ret = Checks.toDouble(returns);

            FloatArray objective = new FloatArray(N);
            FloatArray valueLosses = new FloatArray(N);
            Checks.run(backend,
                    List.of(PpoOps.policyForward(objective, losses, oldLogp, advantages, weights, hyper, N),
                            PpoOps.valueForward(valueLosses, values, oldValues, returns, weights, hyper, N)),
                    new Object[] { losses, oldLogp, advantages, values, oldValues, returns, weights, hyper }, new Object[] { objective, valueLosses });
            results.add(new CheckResult(op(), "policy forward", shape, Checks.error(objective, PpoReference.policyForward(l, old, a, w, EPS)), 1e-5));
            results.add(new CheckResult(op(), "value forward", shape, Checks.error(valueLosses, PpoReference.valueForward(v, ov, ret, w, EPS)), 1e-6));

            FloatArray dlosses = Checks.random(r, N, 1f / N);
            FloatArray dvalues = Checks.random(r, N, 1f / N);
            double[] wantDlosses = Checks.toDouble(dlosses);
            double[] wantDvalues = Checks.toDouble(dvalues);
            Checks.run(backend,
                    List.of(PpoOps.policyBackward(dlosses, losses, oldLogp, advantages, weights, hyper, N),
                            PpoOps.valueBackward(dvalues, values, oldValues, returns, weights, hyper, N)),
                    new Object[] { dlosses, dvalues, losses, oldLogp, advantages, values, oldValues, returns, weights, hyper },
                    new Object[] { dlosses, dvalues });
            PpoReference.policyBackward(l, old, a, w, EPS, wantDlosses);
            PpoReference.valueBackward(v, ov, ret, w, EPS, wantDvalues);
            results.add(new CheckResult(op(), "policy backward", shape, Checks.error(dlosses, wantDlosses), 1e-5));
            results.add(new CheckResult(op(), "value backward", shape, Checks.error(dvalues, wantDvalues), 1e-6));
        }
        for (int[] s : ENTROPY_SHAPES) {
            int N = s[0];
            int V = s[1];
            FloatArray logits = Checks.random(r, N * V, 2f);
            logits.set(3, logits.get(3) + 12f);
            for (int j = 0; j < V; j++) {
                logits.set(V + j, logits.get(V + j) - 100f);
            }
            IntArray targets = Checks.randomInts(r, N, V);
            FloatArray losses = new FloatArray(N);
            FloatArray logSumExp = new FloatArray(N);
            FloatArray entropy = new FloatArray(N);
            Checks.run(backend,
                    List.of(CrossEntropyOps.forward(losses, logSumExp, logits, targets, N, V), PpoOps.entropy(entropy, logits, logSumExp, N, V)),
                    new Object[] { logits, targets }, new Object[] { entropy });
            results.add(new CheckResult(op(), "entropy", "N=" + N + " V=" + V, Checks.error(entropy, PpoReference.entropy(Checks.toDouble(logits), N, V)),
                    1e-5));
        }
        return results;
    }

    /** log r uniform in [−0.5, 0.5], r at least MARGIN from 1 ± ε. */
    private static float logRatio(Random r) {
        float x;
        do {
            x = r.nextFloat() - 0.5f;
        } while (Math.abs(Math.exp(x) - (1 - EPS)) < MARGIN || Math.abs(Math.exp(x) - (1 + EPS)) < MARGIN);
        return x;
    }

    /** v within 3ε of old, |v − old| at least MARGIN from ε, and the clipped square at least MARGIN from the other. */
    private static float value(Random r, float old, float ret) {
        float v;
        double gap;
        do {
            v = old + (2 * r.nextFloat() - 1) * 3 * EPS;
            double vclip = Math.clamp(v, old - (double) EPS, old + (double) EPS);
            gap = Math.abs((v - ret) * (double) (v - ret) - (vclip - ret) * (vclip - ret));
        } while (Math.abs(Math.abs((double) v - old) - EPS) < MARGIN || (Math.abs((double) v - old) > EPS && gap < MARGIN));
        return v;
    }
}
