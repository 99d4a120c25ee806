package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.RankingOps;
import dev.tgpt.kernels.RankingReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The ranking loss against {@link RankingReference}. Counts run over 0..K: prompt 0 has all K responses, prompts 1
 * and 2 (where there are) have 1 and 0 (loss 0, no gradient, though their dloss is not 0); slots past a prompt's
 * count hold NaN, which must never be read. The last prompt's rewards are ±30, so that log σ and σ see differences of
 * up to 60 (where a naive log(1 + exp(−x)) would overflow). dloss is 1/P, as for a mean; drewards start non-zero, so
 * the check sees that backward adds. Tolerances: a loss is the mean of at most 36 terms log σ, each a float32 exp and
 * log; a relaxed-math device's log has an absolute error up to 2^-21 ≈ 5e-7 near 1 (OpenCL's -cl-fast-relaxed-math,
 * TornadoVM's default), against losses of order 1; the gradient sums σ terms the same way. Allow 1e-5.
 */
public final class RankingCheck implements OpCheck {

    /** { P, K }. */
    static final int[][] SHAPES = { { 1, 2 }, { 7, 5 }, { 129, 9 } };

    @Override
    public String op() {
        return "ranking";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(17);
        for (int[] s : SHAPES) {
            int P = s[0];
            int K = s[1];
            String shape = "P=" + P + " K=" + K;
            int[] k = new int[P];
            for (int p = 0; p < P; p++) {
                k[p] = p == 0 ? K : p <= 2 ? 2 - p : r.nextInt(K + 1);
            }
            FloatArray rewards = Checks.random(r, P * K, 3f);
            for (int i = 0; i < K; i++) {
                rewards.set((P - 1) * K + i, rewards.get((P - 1) * K + i) * 10f);
            }
            for (int p = 0; p < P; p++) {
                for (int i = k[p]; i < K; i++) {
                    rewards.set(p * K + i, Float.NaN);
                }
            }
            IntArray counts = IntArray.fromArray(k);
            FloatArray losses = new FloatArray(P);
            Checks.run(backend, List.of(RankingOps.forward(losses, rewards, counts, P, K)), new Object[] { rewards, counts }, new Object[] { losses });
            double[] rewardsD = Checks.toDouble(rewards);
            results.add(new CheckResult(op(), "forward", shape, Checks.error(losses, RankingReference.forward(rewardsD, k, K)), 1e-5));

            FloatArray dlosses = new FloatArray(P);
            dlosses.init(1f / P);
            FloatArray drewards = Checks.random(r, P * K, 0.01f);
            double[] want = Checks.toDouble(drewards);
            Checks.run(backend, List.of(RankingOps.backward(drewards, rewards, counts, dlosses, P, K)),
                    new Object[] { drewards, rewards, counts, dlosses }, new Object[] { drewards });
            RankingReference.backward(rewardsD, k, Checks.toDouble(dlosses), want, K);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(drewards, want), 1e-5));
        }
        return results;
    }
}
