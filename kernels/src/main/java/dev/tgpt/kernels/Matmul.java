package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Matrix multiplication of a linear layer, weight W[OC, C] in nn.Linear's layout, over N rows.
 *
 * <pre>
 * forward:  out[N,OC] = inp[N,C]·Wᵀ + b
 * backward: dinp[N,C] += dout[N,OC]·W;   dW[OC,C] += doutᵀ·inp;   db[OC] += Σ_n dout[n,·]
 * </pre>
 *
 * The three products are one tiled kernel, {@link #tiled}: C[M,N] (+)= A·B with A and B read through strides, so
 * each of them reads its operands where they lie, transposed or not. A work-group of GROUP × GROUP work-items
 * computes a TILE × TILE block of C; each work-item keeps a WPT × WPT block of it in registers, at rows and columns
 * GROUP apart. Per step of TK along k the group stages a TILE × TK slice of A and a TK × TILE slice of B in local
 * memory, each loaded so that neighbouring work-items read neighbouring addresses (along k where the stride of k is
 * 1, else along the rows or columns). Sizes need not be multiples of the tile: loads outside read 0, stores outside
 * are skipped. The JVM backend runs {@link MatmulVector} instead. W, b, dW and db may be views of a slab: each comes
 * as the slab and the view's offset in it (a plain array and 0 otherwise).
 */
public final class Matmul {

    /** Work-items of a work-group along each dimension. */
    public static final int GROUP = 16;
    /** Outputs per work-item along each dimension. */
    public static final int WPT = 4;
    /** Rows and columns of C per work-group. */
    public static final int TILE = GROUP * WPT;
    /** Depth of the k-slices staged in local memory. */
    static final int TK = 16;
    /** Row stride of the local slices: one more than TILE, so writes along k fall in different banks. */
    static final int LDS = TILE + 1;

    private Matmul() {
    }

    /** out = inp·Wᵀ (+ bias when hasBias is 1; bias is then [OC], else any array). */
    public static void matmulForward(KernelContext ctx, FloatArray out, FloatArray inp, FloatArray weight, int weightOff, FloatArray bias,
            int biasOff, int N, int C, int OC, int hasBias) {
        tiled(ctx, out, 0, inp, 0, weight, weightOff, bias, biasOff, N, OC, C, C, 1, 1, C, 0, hasBias, inp, inp, 0, 0, 0, 0, 0f);
    }

    /** dinp += dout·W. */
    public static void matmulBackwardInput(KernelContext ctx, FloatArray dinp, FloatArray dout, FloatArray weight, int weightOff, int N,
            int C, int OC) {
        tiled(ctx, dinp, 0, dout, 0, weight, weightOff, weight, weightOff, N, C, OC, OC, 1, C, 1, 1, 0, dout, dout, 0, 0, 0, 0, 0f);
    }

    /** dW += doutᵀ·inp. */
    public static void matmulBackwardWeight(KernelContext ctx, FloatArray dweight, int dweightOff, FloatArray dout, FloatArray inp, int N,
            int C, int OC) {
        tiled(ctx, dweight, dweightOff, dout, 0, inp, 0, inp, 0, OC, C, N, 1, OC, C, 1, 1, 0, dout, dout, 0, 0, 0, 0, 0f);
    }

    /** db += Σ_n dout[n,·]: one work-item per column, rows in order, no atomics. */
    public static void matmulBackwardBias(FloatArray dbias, int dbiasOff, FloatArray dout, int N, int OC) {
        for (@Parallel int o = 0; o < OC; o++) {
            biasGradColumn(dbias, dbiasOff, dout, o, N, OC);
        }
    }

    public static void biasGradColumn(FloatArray dbias, int dbiasOff, FloatArray dout, int o, int N, int OC) {
        float sum = 0f;
        for (int n = 0; n < N; n++) {
            sum += dout.get(n * OC + o);
        }
        dbias.set(dbiasOff + o, dbias.get(dbiasOff + o) + sum);
    }

    /**
     * C[M,N] = A·B (+ bias[n] when hasBias is 1), or C += A·B when accumulate is 1, where A(m,k) = a[m·aM + k·aK]
     * and B(k,n) = b[k·bK + n·bN]; then, when R > 0, each output adds scale·Σ_q E(m,q)·F(q,n) as it is stored, with
     * E(m,q) = ue[m·R + q] and F(q,n) = uf[ufOff + q·fK + n·fN]: a product of small inner size R (a LoRA update,
     * {@link Lora}) fused into the store. Work-group (x, y) computes C's block at columns x·TILE, rows y·TILE. Each array
     * starts at its offset (a view's place in its slab, else 0).
     */
    static void tiled(KernelContext ctx, FloatArray c, int cOff, FloatArray a, int aOff, FloatArray b, int bOff, FloatArray bias,
            int biasOff, int M, int N, int K, int aM, int aK, int bK, int bN, int accumulate, int hasBias, FloatArray ue, FloatArray uf,
            int ufOff, int R, int fK, int fN, float scale) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int tid = ty * GROUP + tx;
        int col0 = ctx.groupIdx * TILE;
        int row0 = ctx.groupIdy * TILE;
        float[] as = ctx.allocateFloatLocalArray(TK * LDS);
        float[] bs = ctx.allocateFloatLocalArray(TK * LDS);
        float[] acc = new float[WPT * WPT];
        for (int i = 0; i < WPT * WPT; i++) {
            acc[i] = 0f;
        }
        for (int k0 = 0; k0 < K; k0 += TK) {
            for (int e = tid; e < TILE * TK; e += GROUP * GROUP) {
                int m = aK == 1 ? e / TK : e % TILE;
                int k = aK == 1 ? e % TK : e / TILE;
                as[k * LDS + m] = load(a, aOff, row0 + m, k0 + k, M, K, aM, aK);
                int n = bN == 1 ? e % TILE : e / TK;
                int kb = bN == 1 ? e / TILE : e % TK;
                bs[kb * LDS + n] = load(b, bOff, k0 + kb, col0 + n, K, N, bK, bN);
            }
            ctx.localBarrier();
            for (int k = 0; k < TK; k++) {
                for (int i = 0; i < WPT; i++) {
                    float av = as[k * LDS + ty + i * GROUP];
                    for (int j = 0; j < WPT; j++) {
                        acc[i * WPT + j] += av * bs[k * LDS + tx + j * GROUP];
                    }
                }
            }
            ctx.localBarrier();
        }
        for (int i = 0; i < WPT; i++) {
            int m = row0 + ty + i * GROUP;
            for (int j = 0; j < WPT; j++) {
                int n = col0 + tx + j * GROUP;
                if (m < M && n < N) {
                    float v = acc[i * WPT + j];
                    if (hasBias == 1) {
                        v += bias.get(biasOff + n);
                    }
                    if (accumulate == 1) {
                        v += c.get(cOff + m * N + n);
                    }
                    if (R > 0) {
                        float sum = 0f;
                        for (int q = 0; q < R; q++) {
                            sum += ue.get(m * R + q) * uf.get(ufOff + q * fK + n * fN);
                        }
                        v += scale * sum;
                    }
                    c.set(cOff + m * N + n, v);
                }
            }
        }
    }

    /** x(i, j) = x[off + i·si + j·sj] inside rows × cols, else 0. */
    static float load(FloatArray x, int off, int i, int j, int rows, int cols, int si, int sj) {
        float v = 0f;
        if (i < rows && j < cols) {
            v = x.get(off + i * si + j * sj);
        }
        return v;
    }
}
