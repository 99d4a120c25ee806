package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * LoRA (Hu et al. 2021): a frozen linear layer y = x·Wᵀ + b plus a trained update of rank r, y += s·(x·Aᵀ)·Bᵀ, with
 * A [r, C], B [OC, r] in nn.Linear's layout, s = alpha/r, x [N, C], y [N, OC]. h = x·Aᵀ [N, r] and dA += dhᵀ·x are
 * {@link Matmul}'s products; the update's two other products ride on the frozen layer's own matmul, added to each output
 * as its tile is stored ({@link Matmul#tiled}'s epilogue), so they cost no launch of their own:
 *
 * <pre>
 * forward:   y[n,o]  = x·Wᵀ + b + s·Σ_k h[n,k]·B[o,k]     {@link #forwardFused}
 * backwardB: dB[o,k] += s·Σ_n dy[n,o]·h[n,k]             one work-item per (o, k), n in order
 * backwardH: dh[n,k]  = s·Σ_o dy[n,o]·B[o,k]             one work-item per (n, k), written: scratch read next
 * input:     dx[n,c] += dy·W + Σ_k dh[n,k]·A[k,c]        {@link #backwardInputFused}
 * </pre>
 *
 * r is small (1–64), so the epilogue's r products per output are r/C of the frozen matmul's work. Each sum is in a
 * fixed order, then scaled once: a run is reproducible. W, B and dB may be views of a slab: each comes as the slab and
 * the view's offset in it (a plain array and 0 otherwise). The JVM backend runs {@link MatmulVector} and {@link
 * LoraVector}: the same sums, the update a pass of its own.
 */
public final class Lora {

    private Lora() {
    }

    /** y[N,OC] = x·Wᵀ + bias + scale·h·Bᵀ: the frozen layer (it has a bias, as every block's layer of GPT) and its update. */
    public static void forwardFused(KernelContext ctx, FloatArray y, FloatArray x, FloatArray w, int wOff, FloatArray bias, int biasOff,
            FloatArray h, FloatArray b, int bOff, float scale, int N, int C, int OC, int r) {
        Matmul.tiled(ctx, y, 0, x, 0, w, wOff, bias, biasOff, N, OC, C, C, 1, 1, C, 0, 1, h, b, bOff, r, 1, r, scale);
    }

    /** dx[N,C] += dy·W + dh·A: the frozen layer's input gradient and the update's (dh already holds s·dy·B). */
    public static void backwardInputFused(KernelContext ctx, FloatArray dx, FloatArray dy, FloatArray w, int wOff, FloatArray dh, FloatArray a,
            int aOff, int N, int C, int OC, int r) {
        Matmul.tiled(ctx, dx, 0, dy, 0, w, wOff, w, wOff, N, C, OC, OC, 1, C, 1, 1, 0, dh, a, aOff, r, C, 1, 1f);
    }

    /** dB[OC,r] += scale·dyᵀ·h. */
    public static void loraBackwardB(FloatArray db, int dbOff, FloatArray dy, FloatArray h, float scale, int N, int OC, int r) {
        for (@Parallel int i = 0; i < OC * r; i++) {
            backwardBAt(db, dbOff, dy, h, scale, N, OC, r, i);
        }
    }

    /** dh[N,r] = scale·dy·B. */
    public static void loraBackwardH(FloatArray dh, FloatArray dy, FloatArray b, int bOff, float scale, int N, int OC, int r) {
        for (@Parallel int i = 0; i < N * r; i++) {
            backwardHAt(dh, dy, b, bOff, scale, OC, r, i);
        }
    }

    /** Element i = o·r + k of dB: neighbouring work-items read neighbouring elements of h's rows. */
    public static void backwardBAt(FloatArray db, int dbOff, FloatArray dy, FloatArray h, float scale, int N, int OC, int r, int i) {
        int o = i / r;
        int k = i % r;
        float sum = 0f;
        for (int n = 0; n < N; n++) {
            sum += dy.get(n * OC + o) * h.get(n * r + k);
        }
        db.set(dbOff + i, db.get(dbOff + i) + scale * sum);
    }

    /** Element i = n·r + k of dh. */
    public static void backwardHAt(FloatArray dh, FloatArray dy, FloatArray b, int bOff, float scale, int OC, int r, int i) {
        int n = i / r;
        int k = i % r;
        float sum = 0f;
        for (int o = 0; o < OC; o++) {
            sum += dy.get(n * OC + o) * b.get(bOff + o * r + k);
        }
        dh.set(i, scale * sum);
    }
}
