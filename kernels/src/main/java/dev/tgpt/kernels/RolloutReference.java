package dev.tgpt.kernels;

import java.util.Arrays;

/**
 * Rollout sampling written plainly, in double precision: what {@link Rollout} is checked against. The uniforms are a
 * definition, not a computation, so they come from {@link Rollout#uniform} itself (as {@link DropoutReference}'s mask
 * comes from {@link Dropout}); the Gumbel noise, the temperature and the argmax are computed here.
 */
public final class RolloutReference {

    private RolloutReference() {
    }

    /** The token drawn from one row of V logits for sequence b at position t of T: a draw from softmax(logits/τ); τ = 0: argmax. */
    public static int sample(double[] logits, int seed, int b, int t, int T, double temperature) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < logits.length; v++) {
            double score = logits[v];
            if (temperature > 0) {
                double u = Rollout.uniform(seed, Rollout.stream(b, t, T), v);
                score = logits[v] / temperature - Math.log(-Math.log1p(-u));
            }
            if (score > bestScore) {
                best = v;
                bestScore = score;
            }
        }
        return best;
    }

    /**
     * One sampling step at decode position pos: fills seq[b, pos + 1] of each sequence past its prompt, with eos once
     * it has ended. logits [B, V] are those of position pos.
     */
    public static void step(int[] seq, double[] logits, int[] promptLengths, int pos, int seed, double temperature, int B, int T, int V, int eos) {
        int t = pos + 1;
        for (int b = 0; b < B; b++) {
            if (t >= T || t < promptLengths[b]) {
                continue;
            }
            boolean ended = t - 1 >= promptLengths[b] && seq[b * T + t - 1] == eos;
            double[] row = Arrays.copyOfRange(logits, b * V, (b + 1) * V);
            seq[b * T + t] = ended ? eos : sample(row, seed, b, t, T, temperature);
        }
    }
}
