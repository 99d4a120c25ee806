package dev.tgpt.kernels;

/** The global gradient norm and clipping factor written plainly, in double precision: what {@link GradNorm} is checked against. */
public final class GradNormReference {

    private GradNormReference() {
    }

    /** √(Σ g²) over all the buffers. */
    public static double norm(double[]... grads) {
        double s = 0;
        for (double[] g : grads) {
            for (double v : g) {
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    /** min(1, maxNorm / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_ scales. */
    public static double scale(double norm, double maxNorm) {
        return Math.min(1, maxNorm / (norm + 1e-6));
    }
}
