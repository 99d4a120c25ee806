package dev.tgpt.kernels;

/** One AdamW step written plainly, in double precision, as torch.optim.AdamW does it: what {@link AdamW} is checked against. */
public final class AdamWReference {

    private AdamWReference() {
    }

    /** Step t (1-based) with gradients grad·clip: updates params, m and v in place. */
    public static void step(double[] params, double[] grads, double[] m, double[] v, double clip, double lr, double beta1, double beta2,
            double eps, double weightDecay, int t) {
        double correction1 = 1 - Math.pow(beta1, t);
        double correction2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < params.length; i++) {
            double g = grads[i] * clip;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            // torch: θ·(1 − lr·λ), then θ − (lr/c1)·m / (√v/√c2 + ε)
            params[i] *= 1 - lr * weightDecay;
            params[i] -= lr / correction1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(correction2) + eps);
        }
    }
}
