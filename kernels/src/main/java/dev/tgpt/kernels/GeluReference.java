package dev.tgpt.kernels;

/** GELU (tanh form) written plainly, in double precision: what {@link Gelu} is checked against. */
public final class GeluReference {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double CUBIC = 0.044715;

    private GeluReference() {
    }

    public static double[] forward(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = 0.5 * x[i] * (1 + Math.tanh(SQRT_2_OVER_PI * (x[i] + CUBIC * x[i] * x[i] * x[i])));
        }
        return y;
    }

    /** Adds the gradient of loss(y) to dx, given dy. */
    public static void backward(double[] dy, double[] x, double[] dx) {
        for (int i = 0; i < x.length; i++) {
            double t = Math.tanh(SQRT_2_OVER_PI * (x[i] + CUBIC * x[i] * x[i] * x[i]));
            double du = SQRT_2_OVER_PI * (1 + 3 * CUBIC * x[i] * x[i]);
            dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * x[i] * (1 - t * t) * du);
        }
    }
}
