package dev.tgpt.kernels;

/** Row gathering written plainly: what {@link Gather} is checked against. */
public final class GatherReference {

    private GatherReference() {
    }

    public static double[] forward(double[] inp, int[] rows, int C) {
        double[] out = new double[rows.length * C];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(inp, rows[b] * C, out, b * C, C);
        }
        return out;
    }

    public static void backward(double[] dout, int[] rows, int C, double[] dinp) {
        for (int b = 0; b < rows.length; b++) {
            for (int c = 0; c < C; c++) {
                dinp[rows[b] * C + c] += dout[b * C + c];
            }
        }
    }
}
