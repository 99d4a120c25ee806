package dev.tgpt.rlhf;

import java.util.Arrays;

/**
 * PPO's per-token bookkeeping on the host (and GRPO's per-group advantages), as Hugging Face TRL's PPOTrainer does it (compute_rewards,
 * compute_advantages, masked_whiten; Ziegler et al. 2019, Ouyang et al. 2022).
 *
 * <p>Arrays are laid out [B·T], sequence b's position t at b·T + t. Position t's action is emitting the token at t + 1,
 * so {@code mask[b·T + t]} is 1 where position t predicts a response token and 0 elsewhere (the prompt, except its
 * last position, and the padding after the response); each sequence's masked positions are contiguous and at least
 * one. Sums run in double precision; results are rounded to float once.
 */
public final class Advantages {

    private Advantages() {
    }

    /**
     * Per-token rewards: −β·(logp − refLogp) on masked positions (the KL penalty against the reference model, TRL's
     * "kl" estimator), plus the reward model's {@code scores[b]} at sequence b's last masked position; 0 elsewhere.
     */
    public static float[] rewards(float[] logp, float[] refLogp, float[] mask, float[] scores, int B, int T, float beta) {
        check(mask, B, T, logp, refLogp);
        if (scores.length != B) {
            throw new IllegalArgumentException("scores has " + scores.length + " entries, not B = " + B);
        }
        float[] rewards = new float[B * T];
        for (int b = 0; b < B; b++) {
            int last = span(mask, b, T)[1];
            for (int i = b * T; i < (b + 1) * T; i++) {
                if (mask[i] != 0) {
                    double r = -(double) beta * ((double) logp[i] - refLogp[i]);
                    rewards[i] = (float) (i == last ? r + scores[b] : r);
                }
            }
        }
        return rewards;
    }

    /** GRPO's ε in (r − mean)/(std + ε), as TRL adds it, so that a group whose rewards all agree gets advantages 0. */
    public static final double GROUP_EPS = 1e-4;

    /**
     * GRPO's advantages (Shao et al. 2024): each response's reward relative to the G responses to the same prompt,
     * (r − mean)/(std + {@link #GROUP_EPS}) with the unbiased std, as TRL's GRPOTrainer computes them; groups are
     * consecutive runs of G in {@code rewards}.
     */
    public static float[] grouped(float[] rewards, int G) {
        if (G < 2 || rewards.length % G != 0) {
            throw new IllegalArgumentException("groups of " + G + " in " + rewards.length + " rewards: need G ≥ 2 dividing them");
        }
        float[] out = new float[rewards.length];
        for (int g = 0; g < rewards.length; g += G) {
            double mean = groupMean(rewards, g, G);
            double std = groupStd(rewards, g, G);
            for (int i = g; i < g + G; i++) {
                out[i] = (float) ((rewards[i] - mean) / (std + GROUP_EPS));
            }
        }
        return out;
    }

    static double groupMean(float[] x, int from, int G) {
        double sum = 0;
        for (int i = from; i < from + G; i++) {
            sum += x[i];
        }
        return sum / G;
    }

    /** The unbiased standard deviation of x[from..from+G). */
    static double groupStd(float[] x, int from, int G) {
        double mean = groupMean(x, from, G);
        double squares = 0;
        for (int i = from; i < from + G; i++) {
            squares += (x[i] - mean) * (x[i] - mean);
        }
        return Math.sqrt(squares / (G - 1));
    }

    /**
     * Generalised advantage estimation (Schulman et al. 2016) over each sequence's masked positions: δ_t = r_t +
     * γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}, with V and A taken as 0 after the last masked position (the episode
     * ends there). {@code returns} = advantages + values. Both outputs are 0 outside the mask.
     */
    public static void gae(float[] rewards, float[] values, float[] mask, int B, int T, float gamma, float lambda, float[] advantages,
            float[] returns) {
        check(mask, B, T, rewards, values, advantages, returns);
        Arrays.fill(advantages, 0);
        Arrays.fill(returns, 0);
        for (int b = 0; b < B; b++) {
            int[] span = span(mask, b, T);
            double next = 0;
            double gaelam = 0;
            for (int i = span[1]; i >= span[0]; i--) {
                double delta = rewards[i] + (double) gamma * next - values[i];
                gaelam = delta + (double) gamma * lambda * gaelam;
                advantages[i] = (float) gaelam;
                returns[i] = (float) (gaelam + values[i]);
                next = values[i];
            }
        }
    }

    /**
     * Whitens the masked entries in place, as TRL's masked_whiten: (x − mean) / sqrt(var + 1e-8), var the masked
     * variance with Bessel's correction. Unmasked entries become 0.
     */
    public static void whiten(float[] x, float[] mask) {
        double mean = maskedMean(x, mask);
        double scale = 1 / Math.sqrt(maskedVariance(x, null, mask) + 1e-8);
        for (int i = 0; i < x.length; i++) {
            x[i] = mask[i] != 0 ? (float) ((x[i] - mean) * scale) : 0;
        }
    }

    /** The mean of the masked entries. */
    public static double maskedMean(float[] x, float[] mask) {
        return maskedMean(x, null, mask);
    }

    /**
     * 1 − Var(returns − values) / Var(returns) over the masked entries: 1 when the value head predicts the returns
     * exactly, 0 when it does no better than their mean, negative when worse; NaN when the returns do not vary.
     */
    public static double explainedVariance(float[] values, float[] returns, float[] mask) {
        if (values.length != returns.length) {
            throw new IllegalArgumentException("values has " + values.length + " entries, returns " + returns.length);
        }
        double var = maskedVariance(returns, null, mask);
        return var == 0 ? Double.NaN : 1 - maskedVariance(returns, values, mask) / var;
    }

    /** The masked mean of x − minus (of x when minus is null). */
    private static double maskedMean(float[] x, float[] minus, float[] mask) {
        if (x.length != mask.length) {
            throw new IllegalArgumentException("an array of " + x.length + " entries with a mask of " + mask.length);
        }
        double sum = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (mask[i] != 0) {
                sum += minus == null ? x[i] : (double) x[i] - minus[i];
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException("the mask selects nothing");
        }
        return sum / n;
    }

    /** The masked variance of x − minus with Bessel's correction (n − 1), as TRL's masked_var(unbiased=True). */
    private static double maskedVariance(float[] x, float[] minus, float[] mask) {
        double mean = maskedMean(x, minus, mask);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (mask[i] != 0) {
                double d = (minus == null ? x[i] : (double) x[i] - minus[i]) - mean;
                sum += d * d;
                n++;
            }
        }
        if (n < 2) {
            throw new IllegalArgumentException("a variance needs two masked entries, the mask selects " + n);
        }
        return sum / (n - 1);
    }

    /** Checks the arrays' sizes and that the mask holds only 0 and 1. */
    private static void check(float[] mask, int B, int T, float[]... arrays) {
        if (B <= 0 || T <= 0 || (long) B * T != mask.length) {
            throw new IllegalArgumentException("a mask of " + mask.length + " entries for B = " + B + ", T = " + T);
        }
        for (float[] a : arrays) {
            if (a.length != mask.length) {
                throw new IllegalArgumentException("an array of " + a.length + " entries, not B·T = " + mask.length);
            }
        }
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0 && mask[i] != 1) {
                throw new IllegalArgumentException("mask[" + i + "] is " + mask[i] + ": a mask holds 0 and 1");
            }
        }
    }

    /** Sequence b's first and last masked positions (as indices into [B·T]); the span must be contiguous and not empty. */
    private static int[] span(float[] mask, int b, int T) {
        int first = -1;
        int last = -1;
        for (int i = b * T; i < (b + 1) * T; i++) {
            if (mask[i] != 0) {
                if (first < 0) {
                    first = i;
                } else if (last != i - 1) {
                    throw new IllegalArgumentException("sequence " + b + "'s masked positions are not contiguous: a gap before position "
                            + (i - b * T));
                }
                last = i;
            }
        }
        if (first < 0) {
            throw new IllegalArgumentException("sequence " + b + " has no masked (response) position");
        }
        return new int[] { first, last };
    }
}
