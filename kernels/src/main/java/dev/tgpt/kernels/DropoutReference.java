package dev.tgpt.kernels;

/**
 * Dropout written plainly, in double precision: what {@link Dropout} is checked against. The mask is a definition,
 * not a computation, so it comes from {@link Dropout#keeps} itself; run on the host it also checks that the device
 * compiled the hash's int arithmetic (wrapping multiplies, unsigned shifts) as Java defines it.
 */
public final class DropoutReference {

    private DropoutReference() {
    }

    public static double[] forward(double[] x, int seed, int stream, float p) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Dropout.keeps(seed, stream, p, i) ? x[i] / (1 - (double) p) : 0;
        }
        return y;
    }

    /** Adds the gradient of loss(y) to dx, given dy. */
    public static void backward(double[] dy, double[] dx, int seed, int stream, float p) {
        for (int i = 0; i < dx.length; i++) {
            if (Dropout.keeps(seed, stream, p, i)) {
                dx[i] += dy[i] / (1 - (double) p);
            }
        }
    }
}
