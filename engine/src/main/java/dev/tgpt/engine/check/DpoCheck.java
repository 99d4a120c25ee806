package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.DpoOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.RankingOps;
import dev.tgpt.kernels.Dpo;
import dev.tgpt.kernels.DpoReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * DPO's objective as training runs it (implicit rewards by {@link Dpo}, the pair loss and its gradient by
 * {@link dev.tgpt.kernels.Ranking} with K = 2, back to each position's loss by {@link Dpo}) against
 * {@link DpoReference}, β = 0.1. Each row has a prompt (targets −1), a response of random length and padding (−1);
 * losses are 0.5–8 nats as a model's are; a masked position holds a huge loss that must never be summed. The
 * reference log-probabilities sit within ±20 nats of the policy's, so rewards and their differences are of order 1,
 * as in training. Gradients start non-zero, so the check sees that backward adds. Tolerances: a log-probability is a
 * float32 sum of up to 1,024 losses of up to 8 (chunks of 64, then the chunks): ~1e-4 absolute of a sum of ~4,000,
 * which β turns into ~1e-5 of a reward; the pair loss and its σ add a few ulp and a relaxed-math device's exp and log
 * ~5e-7 (as {@link RankingCheck}). Allow 1e-4 relative for rewards, pair losses and gradients.
 */
public final class DpoCheck implements OpCheck {

    /** { B (rows: pairs·2), T }. */
    static final int[][] SHAPES = { { 2, 5 }, { 6, 37 }, { 32, 1024 } };
    static final float BETA = 0.1f;

    @Override
    public String op() {
        return "dpo";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(29);
        FloatArray hyper = new FloatArray(Dpo.HYPER_SIZE);
        hyper.set(Dpo.BETA, BETA);
        for (int[] s : SHAPES) {
            int B = s[0];
            int T = s[1];
            int P = B / 2;
            String shape = "B=" + B + " T=" + T + " beta=" + BETA;
            FloatArray losses = new FloatArray(B * T);
            IntArray targets = new IntArray(B * T);
            for (int b = 0; b < B; b++) {
                int prompt = 1 + r.nextInt(Math.max(1, T / 4));
                int end = prompt + r.nextInt(T - prompt + 1);
                for (int t = 0; t < T; t++) {
                    boolean response = t >= prompt && t < end;
                    targets.set(b * T + t, response ? r.nextInt(50257) : -1);
                    losses.set(b * T + t, response ? 0.5f + 7.5f * r.nextFloat() : 1e30f);
                }
            }
            int[] tg = targets.toHeapArray();
            double[] l = Checks.toDouble(losses);
            double[] logps = DpoReference.logps(l, tg, B, T);
            FloatArray ref = new FloatArray(B);
            for (int b = 0; b < B; b++) {
                ref.set(b, (float) (logps[b] + 40 * r.nextDouble() - 20));
            }
            double[] refD = Checks.toDouble(ref);
            IntArray counts = new IntArray(P);
            counts.init(2);
            FloatArray weights = new FloatArray(P);
            weights.init(1f / P);
            double[] w = Checks.toDouble(weights);

            FloatArray rewards = new FloatArray(B);
            FloatArray pairLosses = new FloatArray(P);
            FloatArray drewards = new FloatArray(B);
            FloatArray dlosses = Checks.random(r, B * T, 0.01f);
            double[] want = Checks.toDouble(dlosses);
            Checks.run(backend, List.of(DpoOps.rewards(rewards, losses, targets, ref, hyper, B, T), RankingOps.forward(pairLosses, rewards, counts, P, 2),
                    FillOps.fill(drewards, 0f), RankingOps.backward(drewards, rewards, counts, weights, P, 2),
                    DpoOps.backward(dlosses, drewards, targets, hyper, B, T)),
                    new Object[] { losses, targets, ref, hyper, counts, weights, drewards, dlosses }, new Object[] { rewards, pairLosses, dlosses });
            DpoReference.backward(l, tg, refD, BETA, w, B, T, want);
            results.add(new CheckResult(op(), "rewards", shape, Checks.error(rewards, DpoReference.rewards(l, tg, refD, BETA, B, T)), 1e-4));
            results.add(new CheckResult(op(), "pair loss", shape, Checks.error(pairLosses, DpoReference.pairLosses(l, tg, refD, BETA, B, T)), 1e-4));
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dlosses, want), 1e-4));
        }
        return results;
    }
}
