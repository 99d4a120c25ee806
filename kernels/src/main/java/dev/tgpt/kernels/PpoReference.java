package dev.tgpt.kernels;

/** PPO's losses written plainly, in double precision: what {@link Ppo} is checked against. */
public final class PpoReference {

    private PpoReference() {
    }

    /** The clipped policy objective of each position; losses are −logp. */
    public static double[] policyForward(double[] losses, double[] oldLogp, double[] advantages, double[] weights, double eps) {
        double[] objective = new double[losses.length];
        for (int n = 0; n < losses.length; n++) {
            if (weights[n] != 0) {
                double r = Math.exp(-losses[n] - oldLogp[n]);
                double a = advantages[n];
                objective[n] = weights[n] * Math.max(-a * r, -a * Math.clamp(r, 1 - eps, 1 + eps));
            }
        }
        return objective;
    }

    /** Adds the gradient of Σ objective with respect to losses to dlosses. */
    public static void policyBackward(double[] losses, double[] oldLogp, double[] advantages, double[] weights, double eps, double[] dlosses) {
        for (int n = 0; n < losses.length; n++) {
            double r = Math.exp(-losses[n] - oldLogp[n]);
            double a = advantages[n];
            if (weights[n] != 0 && -a * r >= -a * Math.clamp(r, 1 - eps, 1 + eps)) {
                // objective = w·(−A·r), r = exp(−loss − old): d/dloss = w·A·r
                dlosses[n] += weights[n] * a * r;
            }
        }
    }

    /** The clipped value loss of each position. */
    public static double[] valueForward(double[] values, double[] oldValues, double[] returns, double[] weights, double eps) {
        double[] losses = new double[values.length];
        for (int n = 0; n < values.length; n++) {
            if (weights[n] != 0) {
                double d = values[n] - returns[n];
                double dc = oldValues[n] + Math.clamp(values[n] - oldValues[n], -eps, eps) - returns[n];
                losses[n] = weights[n] * 0.5 * Math.max(d * d, dc * dc);
            }
        }
        return losses;
    }

    /** Adds the gradient of Σ value losses with respect to values to dvalues. */
    public static void valueBackward(double[] values, double[] oldValues, double[] returns, double[] weights, double eps, double[] dvalues) {
        for (int n = 0; n < values.length; n++) {
            if (weights[n] == 0) {
                continue;
            }
            double d = values[n] - returns[n];
            boolean inside = Math.abs(values[n] - oldValues[n]) < eps;
            double dc = oldValues[n] + Math.clamp(values[n] - oldValues[n], -eps, eps) - returns[n];
            // through whichever square is the larger; the clipped one moves with v only inside the clip range
            dvalues[n] += weights[n] * (d * d >= dc * dc ? d : inside ? dc : 0);
        }
    }

    /** The entropy of softmax(logits) of each of the N rows of V. */
    public static double[] entropy(double[] logits, int N, int V) {
        double[] h = new double[N];
        for (int n = 0; n < N; n++) {
            double lse = CrossEntropyReference.logSumExp(logits, n, V);
            for (int v = 0; v < V; v++) {
                double logp = logits[n * V + v] - lse;
                h[n] -= Math.exp(logp) * logp;
            }
        }
        return h;
    }
}
