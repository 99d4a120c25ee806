package dev.tgpt.kernels;

/** The ranking loss written plainly, in double precision: what {@link Ranking} is checked against. */
public final class RankingReference {

    private RankingReference() {
    }

    /** The loss of each of the P = counts.length prompts; rewards [P, K]. */
    public static double[] forward(double[] rewards, int[] counts, int K) {
        double[] losses = new double[counts.length];
        for (int p = 0; p < counts.length; p++) {
            int k = Math.min(counts[p], K);
            double sum = 0;
            for (int i = 0; i < k; i++) {
                for (int j = i + 1; j < k; j++) {
                    sum += logSigmoid(rewards[p * K + i] - rewards[p * K + j]);
                }
            }
            losses[p] = k >= 2 ? -sum / (k * (k - 1) / 2) : 0;
        }
        return losses;
    }

    /** Adds the gradient of Σ_p dlosses_p·loss_p to drewards. */
    public static void backward(double[] rewards, int[] counts, double[] dlosses, double[] drewards, int K) {
        for (int p = 0; p < counts.length; p++) {
            int k = Math.min(counts[p], K);
            if (k < 2) {
                continue;
            }
            double scale = dlosses[p] / (k * (k - 1) / 2);
            for (int i = 0; i < k; i++) {
                for (int j = i + 1; j < k; j++) {
                    // d/dx −log σ(x) = −σ(−x), at x = r_i − r_j
                    double g = sigmoid(rewards[p * K + j] - rewards[p * K + i]) * scale;
                    drewards[p * K + i] -= g;
                    drewards[p * K + j] += g;
                }
            }
        }
    }

    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
