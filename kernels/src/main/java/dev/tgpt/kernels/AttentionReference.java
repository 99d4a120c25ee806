package dev.tgpt.kernels;

/**
 * Masked multi-head self-attention written plainly, in double precision: what the {@link Attention} kernels are
 * checked against, itself checked against finite differences. Layouts as in {@link Attention}; the mask says which
 * keys t2 a query t may attend to (causal: t2 ≤ t). A row that may attend to nothing gets att = 0 and out = 0.
 */
public final class AttentionReference {

    /** Whether query position t may attend to key position t2. */
    @FunctionalInterface
    public interface Mask {
        boolean allowed(int t, int t2);
    }

    public static final Mask CAUSAL = (t, t2) -> t2 <= t;

    private AttentionReference() {
    }

    /** Returns out [B, T, C]; fills att [B, NH, T, T] with the probabilities (0 where masked). */
    public static double[] forward(double[] qkv, double[] att, int B, int T, int C, int NH, Mask mask) {
        int hs = C / NH;
        double scale = 1 / Math.sqrt(hs);
        double[] out = new double[B * T * C];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                for (int t = 0; t < T; t++) {
                    int row = ((b * NH + h) * T + t) * T;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 < T; t2++) {
                        if (mask.allowed(t, t2)) {
                            double s = 0;
                            for (int i = 0; i < hs; i++) {
                                s += qkv[q(b, t, h, i, T, C, hs)] * qkv[q(b, t2, h, i, T, C, hs) + C];
                            }
                            att[row + t2] = s * scale;
                            max = Math.max(max, s * scale);
                        }
                    }
                    double sum = 0;
                    for (int t2 = 0; t2 < T; t2++) {
                        att[row + t2] = mask.allowed(t, t2) ? Math.exp(att[row + t2] - max) : 0;
                        sum += att[row + t2];
                    }
                    for (int t2 = 0; t2 < T; t2++) {
                        att[row + t2] = sum == 0 ? 0 : att[row + t2] / sum;
                        for (int i = 0; i < hs; i++) {
                            out[(b * T + t) * C + h * hs + i] += att[row + t2] * qkv[q(b, t2, h, i, T, C, hs) + 2 * C];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The causal forward. */
    public static double[] forward(double[] qkv, double[] att, int B, int T, int C, int NH) {
        return forward(qkv, att, B, T, C, NH, CAUSAL);
    }

    /** Adds the gradient of loss(out) to dqkv, given dout. */
    public static void backward(double[] dout, double[] qkv, double[] dqkv, int B, int T, int C, int NH, Mask mask) {
        int hs = C / NH;
        double scale = 1 / Math.sqrt(hs);
        double[] att = new double[B * NH * T * T];
        forward(qkv, att, B, T, C, NH, mask);
        double[] datt = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                for (int t = 0; t < T; t++) {
                    int row = ((b * NH + h) * T + t) * T;
                    double sum = 0;
                    for (int t2 = 0; t2 < T; t2++) {
                        datt[t2] = 0;
                        for (int i = 0; i < hs; i++) {
                            double dy = dout[(b * T + t) * C + h * hs + i];
                            datt[t2] += dy * qkv[q(b, t2, h, i, T, C, hs) + 2 * C];
                            dqkv[q(b, t2, h, i, T, C, hs) + 2 * C] += att[row + t2] * dy;
                        }
                        sum += att[row + t2] * datt[t2];
                    }
                    for (int t2 = 0; t2 < T; t2++) {
                        double dpreatt = att[row + t2] * (datt[t2] - sum);
                        for (int i = 0; i < hs; i++) {
                            dqkv[q(b, t, h, i, T, C, hs)] += dpreatt * qkv[q(b, t2, h, i, T, C, hs) + C] * scale;
                            dqkv[q(b, t2, h, i, T, C, hs) + C] += dpreatt * qkv[q(b, t, h, i, T, C, hs)] * scale;
                        }
                    }
                }
            }
        }
    }

    /** The causal backward. */
    public static void backward(double[] dout, double[] qkv, double[] dqkv, int B, int T, int C, int NH) {
        backward(dout, qkv, dqkv, B, T, C, NH, CAUSAL);
    }

    /** Index of q's column i of head h at position t of sequence b; k and v are C and 2C further. */
    private static int q(int b, int t, int h, int i, int T, int C, int hs) {
        return (b * T + t) * 3 * C + h * hs + i;
    }
}
