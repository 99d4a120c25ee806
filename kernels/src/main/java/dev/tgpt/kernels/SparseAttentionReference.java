package dev.tgpt.kernels;

/**
 * Dense causal attention with an arbitrary mask, written plainly in double precision: every (t, t2 ≤ t) pair is
 * scored when the mask allows it, the rest are left out of the softmax. The sparse kernels of {@link SparseAttention}
 * must equal it under their pattern's mask ({@link SparseAttention#allows}); it is itself checked against finite
 * differences. Same tensors: qkv [B, T, 3C], out [B, T, C], NH heads of C/NH channels, scale 1/√(C/NH).
 */
public final class SparseAttentionReference {

    /** Whether query t may attend to key t2 (asked only for t2 ≤ t). */
    @FunctionalInterface
    public interface Mask {
        boolean allows(int t, int t2);
    }

    private SparseAttentionReference() {
    }

    public static double[] forward(double[] qkv, int B, int T, int C, int NH, Mask mask) {
        int hs = C / NH;
        double[] out = new double[B * T * C];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                double[] p = probabilities(qkv, b, h, T, C, NH, mask);
                for (int t = 0; t < T; t++) {
                    for (int t2 = 0; t2 <= t; t2++) {
                        for (int d = 0; d < hs; d++) {
                            out[(b * T + t) * C + h * hs + d] += p[t * T + t2] * qkv[(b * T + t2) * 3 * C + 2 * C + h * hs + d];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Adds the gradient of loss(out) with respect to qkv to dqkv, given dout. */
    public static void backward(double[] dout, double[] qkv, double[] dqkv, int B, int T, int C, int NH, Mask mask) {
        int hs = C / NH;
        double scale = 1 / Math.sqrt(hs);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                double[] p = probabilities(qkv, b, h, T, C, NH, mask);
                for (int t = 0; t < T; t++) {
                    int q = (b * T + t) * 3 * C + h * hs;
                    int o = (b * T + t) * C + h * hs;
                    double[] dp = new double[t + 1];
                    double dot = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        int v = (b * T + t2) * 3 * C + 2 * C + h * hs;
                        for (int d = 0; d < hs; d++) {
                            dp[t2] += dout[o + d] * qkv[v + d];
                        }
                        dot += p[t * T + t2] * dp[t2];
                    }
                    for (int t2 = 0; t2 <= t; t2++) {
                        double ds = p[t * T + t2] * (dp[t2] - dot) * scale; // 0 where masked, as p is
                        int k = (b * T + t2) * 3 * C + C + h * hs;
                        for (int d = 0; d < hs; d++) {
                            dqkv[q + d] += ds * qkv[k + d];
                            dqkv[k + d] += ds * qkv[q + d];
                            dqkv[k + C + d] += p[t * T + t2] * dout[o + d];
                        }
                    }
                }
            }
        }
    }

    /** The [T, T] softmax probabilities of batch b, head h: 0 above the diagonal and where the mask forbids. */
    static double[] probabilities(double[] qkv, int b, int h, int T, int C, int NH, Mask mask) {
        int hs = C / NH;
        double scale = 1 / Math.sqrt(hs);
        double[] p = new double[T * T];
        for (int t = 0; t < T; t++) {
            int q = (b * T + t) * 3 * C + h * hs;
            double max = Double.NEGATIVE_INFINITY;
            for (int t2 = 0; t2 <= t; t2++) {
                if (mask.allows(t, t2)) {
                    int k = (b * T + t2) * 3 * C + C + h * hs;
                    double s = 0;
                    for (int d = 0; d < hs; d++) {
                        s += qkv[q + d] * qkv[k + d];
                    }
                    p[t * T + t2] = s * scale;
                    max = Math.max(max, s * scale);
                }
            }
            double sum = 0;
            for (int t2 = 0; t2 <= t; t2++) {
                if (mask.allows(t, t2)) {
                    p[t * T + t2] = Math.exp(p[t * T + t2] - max);
                    sum += p[t * T + t2];
                }
            }
            for (int t2 = 0; t2 <= t; t2++) {
                p[t * T + t2] = sum == 0 ? 0 : p[t * T + t2] / sum;
            }
        }
        return p;
    }
}
