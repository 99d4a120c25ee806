package dev.tgpt.kernels;

/** The residual add written plainly, in double precision: what {@link Residual} is checked against. */
public final class ResidualReference {

    private ResidualReference() {
    }

    public static double[] forward(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    /** Adds the gradients of loss(out) to da and db, given dout. */
    public static void backward(double[] dout, double[] da, double[] db) {
        for (int i = 0; i < dout.length; i++) {
            da[i] += dout[i];
            db[i] += dout[i];
        }
    }
}
