package dev.tgpt.kernels;

/**
 * A LoRA linear layer written plainly, in double precision: y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ with W [OC, C] and b [OC]
 * frozen, A [r, C], B [OC, r]. What {@link Lora} with {@link Matmul} is checked against, itself checked against finite
 * differences and PyTorch.
 */
public final class LoraReference {

    private LoraReference() {
    }

    /** y[N,OC] of the whole layer; W may be null (no frozen path: the update alone), b may be null. */
    public static double[] forward(double[] x, double[] w, double[] b, double[] a, double[] bm, double s, int N, int C, int OC, int r) {
        double[] y = w == null ? new double[N * OC] : MatmulReference.forward(x, w, b, N, C, OC);
        double[] h = MatmulReference.forward(x, a, null, N, C, r);
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double sum = 0;
                for (int k = 0; k < r; k++) {
                    sum += h[n * r + k] * bm[o * r + k];
                }
                y[n * OC + o] += s * sum;
            }
        }
        return y;
    }

    /**
     * Adds the gradients of Σ dy·y with respect to x, A and B to dx, da and db (W and b are frozen). W may be null:
     * then dx gets only the update's share, s·dy·B·A.
     */
    public static void backward(double[] dy, double[] x, double[] w, double[] a, double[] bm, double s, double[] dx, double[] da,
            double[] db, int N, int C, int OC, int r) {
        if (w != null) {
            MatmulReference.backward(dy, x, w, dx, new double[OC * C], null, N, C, OC);
        }
        double[] h = MatmulReference.forward(x, a, null, N, C, r);
        double[] dh = new double[N * r];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double g = s * dy[n * OC + o];
                for (int k = 0; k < r; k++) {
                    db[o * r + k] += g * h[n * r + k];
                    dh[n * r + k] += g * bm[o * r + k];
                }
            }
        }
        MatmulReference.backward(dh, x, a, dx, da, null, N, C, r);
    }
}
