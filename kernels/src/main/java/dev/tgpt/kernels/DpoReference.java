package dev.tgpt.kernels;

/**
 * DPO's loss written plainly, in double precision, from per-position losses (−log π of each target) as the model's
 * cross-entropy gives them: what {@link Dpo} with {@link Ranking} is checked against. Rows come in pairs, chosen
 * (2p) then rejected (2p + 1); a position counts where its target is ≥ 0.
 */
public final class DpoReference {

    private DpoReference() {
    }

    /** Each row's log-probability of its response: −Σ loss over the positions with a target. */
    public static double[] logps(double[] losses, int[] targets, int B, int T) {
        double[] logp = new double[B];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                if (targets[b * T + t] >= 0) {
                    logp[b] -= losses[b * T + t];
                }
            }
        }
        return logp;
    }

    /** The implicit rewards β·(log π − log π_ref) of each row. */
    public static double[] rewards(double[] losses, int[] targets, double[] ref, double beta, int B, int T) {
        double[] r = logps(losses, targets, B, T);
        for (int b = 0; b < B; b++) {
            r[b] = beta * (r[b] - ref[b]);
        }
        return r;
    }

    /** −log σ(r_2p − r_2p+1) of each of the B/2 pairs. */
    public static double[] pairLosses(double[] losses, int[] targets, double[] ref, double beta, int B, int T) {
        double[] r = rewards(losses, targets, ref, beta, B, T);
        double[] out = new double[B / 2];
        for (int p = 0; p < B / 2; p++) {
            out[p] = -RankingReference.logSigmoid(r[2 * p] - r[2 * p + 1]);
        }
        return out;
    }

    /** Adds the gradient of Σ_p weights_p·loss_p with respect to each position's loss to dlosses. */
    public static void backward(double[] losses, int[] targets, double[] ref, double beta, double[] weights, int B, int T, double[] dlosses) {
        double[] r = rewards(losses, targets, ref, beta, B, T);
        for (int p = 0; p < B / 2; p++) {
            // d/dz −log σ(z) = −σ(−z), z = r_w − r_l; d r_b / d loss_{b,t} = −β
            double g = -RankingReference.sigmoid(r[2 * p + 1] - r[2 * p]) * weights[p];
            for (int t = 0; t < T; t++) {
                if (targets[2 * p * T + t] >= 0) {
                    dlosses[2 * p * T + t] += -beta * g;
                }
                if (targets[(2 * p + 1) * T + t] >= 0) {
                    dlosses[(2 * p + 1) * T + t] += beta * g;
                }
            }
        }
    }
}
