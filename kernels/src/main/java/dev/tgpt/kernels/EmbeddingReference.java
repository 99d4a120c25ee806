package dev.tgpt.kernels;

/**
 * Token plus position embedding written plainly, in double precision: what {@link Embedding} is checked against. A
 * token id outside [0, V) has a zero token embedding and gets no gradient, as in the kernels.
 */
public final class EmbeddingReference {

    private EmbeddingReference() {
    }

    public static double[] forward(int[] tokens, double[] wte, double[] wpe, int B, int T, int C, int V) {
        double[] out = new double[B * T * C];
        for (int n = 0; n < B * T; n++) {
            int t = n % T;
            boolean valid = tokens[n] >= 0 && tokens[n] < V;
            for (int c = 0; c < C; c++) {
                out[n * C + c] = (valid ? wte[tokens[n] * C + c] : 0) + wpe[t * C + c];
            }
        }
        return out;
    }

    /** Adds the gradients of loss(out) to dwte and dwpe, given dout. */
    public static void backward(double[] dout, int[] tokens, double[] dwte, double[] dwpe, int B, int T, int C, int V) {
        for (int n = 0; n < B * T; n++) {
            int t = n % T;
            boolean valid = tokens[n] >= 0 && tokens[n] < V;
            for (int c = 0; c < C; c++) {
                if (valid) {
                    dwte[tokens[n] * C + c] += dout[n * C + c];
                }
                dwpe[t * C + c] += dout[n * C + c];
            }
        }
    }
}
