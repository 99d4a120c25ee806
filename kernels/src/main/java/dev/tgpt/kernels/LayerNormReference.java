package dev.tgpt.kernels;

/**
 * Layer normalisation written plainly, in double precision: what the kernels are checked against (by the tests and
 * by {@code ./tgpt kernels --check}), itself checked against finite differences and PyTorch.
 */
public final class LayerNormReference {

    private LayerNormReference() {
    }

    /** Returns y; fills mean and rstd (length N). */
    public static double[] forward(double[] x, double[] w, double[] b, double[] mean, double[] rstd, int N, int C) {
        double[] y = new double[N * C];
        for (int n = 0; n < N; n++) {
            double m = 0;
            for (int c = 0; c < C; c++) {
                m += x[n * C + c];
            }
            m /= C;
            double v = 0;
            for (int c = 0; c < C; c++) {
                v += (x[n * C + c] - m) * (x[n * C + c] - m);
            }
            double rs = 1 / Math.sqrt(v / C + LayerNorm.EPS);
            for (int c = 0; c < C; c++) {
                y[n * C + c] = (x[n * C + c] - m) * rs * w[c] + b[c];
            }
            mean[n] = m;
            rstd[n] = rs;
        }
        return y;
    }

    /** Adds the gradients of loss(y) to dx, dw and db, given dy. */
    public static void backward(double[] dy, double[] x, double[] w, double[] dx, double[] dw, double[] db, int N, int C) {
        double[] mean = new double[N];
        double[] rstd = new double[N];
        forward(x, w, new double[C], mean, rstd, N, C);
        for (int n = 0; n < N; n++) {
            double meanG = 0;
            double meanGX = 0;
            for (int c = 0; c < C; c++) {
                double xhat = (x[n * C + c] - mean[n]) * rstd[n];
                double g = dy[n * C + c] * w[c];
                meanG += g / C;
                meanGX += g * xhat / C;
                dw[c] += dy[n * C + c] * xhat;
                db[c] += dy[n * C + c];
            }
            for (int c = 0; c < C; c++) {
                double xhat = (x[n * C + c] - mean[n]) * rstd[n];
                dx[n * C + c] += rstd[n] * (dy[n * C + c] * w[c] - meanG - xhat * meanGX);
            }
        }
    }
}
