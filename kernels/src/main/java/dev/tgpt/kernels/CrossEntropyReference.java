package dev.tgpt.kernels;

/**
 * Softmax cross-entropy written plainly, in double precision: what {@link CrossEntropy} is checked against. Rows whose
 * target is outside [0, V) do not count: loss 0, no gradient.
 */
public final class CrossEntropyReference {

    private CrossEntropyReference() {
    }

    /** The loss of each of the N rows. */
    public static double[] forward(double[] logits, int[] targets, int N, int V) {
        double[] losses = new double[N];
        for (int n = 0; n < N; n++) {
            if (targets[n] >= 0 && targets[n] < V) {
                losses[n] = logSumExp(logits, n, V) - logits[n * V + targets[n]];
            }
        }
        return losses;
    }

    /** Adds the gradient of Σ_n dloss_n·loss_n to dlogits. */
    public static void backward(double[] logits, int[] targets, double[] dloss, double[] dlogits, int N, int V) {
        for (int n = 0; n < N; n++) {
            if (targets[n] < 0 || targets[n] >= V) {
                continue;
            }
            double lse = logSumExp(logits, n, V);
            for (int j = 0; j < V; j++) {
                double p = Math.exp(logits[n * V + j] - lse);
                dlogits[n * V + j] += (p - (j == targets[n] ? 1 : 0)) * dloss[n];
            }
        }
    }

    static double logSumExp(double[] logits, int n, int V) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < V; j++) {
            max = Math.max(max, logits[n * V + j]);
        }
        double sum = 0;
        for (int j = 0; j < V; j++) {
            sum += Math.exp(logits[n * V + j] - max);
        }
        return max + Math.log(sum);
    }
}
