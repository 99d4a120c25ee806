package dev.tgpt.kernels;

/** Scaled, optionally causal row softmax written plainly, in double precision: what {@link Softmax} is checked against. */
public final class SoftmaxReference {

    private SoftmaxReference() {
    }

    /** y for N rows of T; row r is query position r mod T, and sees columns ≤ it when causal. */
    public static double[] forward(double[] x, double scale, int N, int T, boolean causal) {
        double[] y = new double[N * T];
        for (int r = 0; r < N; r++) {
            int visible = causal ? r % T + 1 : T;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < visible; j++) {
                max = Math.max(max, scale * x[r * T + j]);
            }
            double sum = 0;
            for (int j = 0; j < visible; j++) {
                sum += Math.exp(scale * x[r * T + j] - max);
            }
            for (int j = 0; j < visible; j++) {
                y[r * T + j] = Math.exp(scale * x[r * T + j] - max) / sum;
            }
        }
        return y;
    }

    /** Adds the gradient of loss(y) to dx, given dy. */
    public static void backward(double[] dy, double[] x, double[] dx, double scale, int N, int T, boolean causal) {
        double[] y = forward(x, scale, N, T, causal);
        for (int r = 0; r < N; r++) {
            double dot = 0;
            for (int j = 0; j < T; j++) {
                dot += y[r * T + j] * dy[r * T + j];
            }
            for (int j = 0; j < T; j++) {
                dx[r * T + j] += scale * y[r * T + j] * (dy[r * T + j] - dot);
            }
        }
    }
}
