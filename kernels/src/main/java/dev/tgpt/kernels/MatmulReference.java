package dev.tgpt.kernels;

/**
 * A linear layer's matmul written plainly, in double precision: what the kernels are checked against (by the tests
 * and by {@code ./tgpt kernels --check}), itself checked against finite differences and PyTorch.
 */
public final class MatmulReference {

    private MatmulReference() {
    }

    /** out[N,OC] = x[N,C]·wᵀ + b, w [OC,C]; b may be null. */
    public static double[] forward(double[] x, double[] w, double[] b, int N, int C, int OC) {
        double[] y = new double[N * OC];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double s = b == null ? 0 : b[o];
                for (int c = 0; c < C; c++) {
                    s += x[n * C + c] * w[o * C + c];
                }
                y[n * OC + o] = s;
            }
        }
        return y;
    }

    /** Adds the gradients of loss(y) to dx, dw and db (db may be null), given dy. */
    public static void backward(double[] dy, double[] x, double[] w, double[] dx, double[] dw, double[] db, int N, int C, int OC) {
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double g = dy[n * OC + o];
                for (int c = 0; c < C; c++) {
                    dx[n * C + c] += g * w[o * C + c];
                    dw[o * C + c] += g * x[n * C + c];
                }
                if (db != null) {
                    db[o] += g;
                }
            }
        }
    }
}
