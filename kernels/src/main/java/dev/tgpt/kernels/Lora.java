package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * LoRA (Hu et al. 2021): a frozen linear layer y = x·Wᵀ + b plus a trained update of rank r, y += s·(x·Aᵀ)·Bᵀ, with
 * A [r, C], B [OC, r] in nn.Linear's layout, s = alpha/r, x [N, C], y [N, OC]. The A-side products are
 * {@link Matmul}'s (h = x·Aᵀ [N, r] forward; dx += dh·A and dA += dhᵀ·x backward); this class has the B side:
 *
 * <pre>
 * forward:   y[n,o]  += s·Σ_k h[n,k]·B[o,k]      one work-item per (n, o), k in order
 * backwardB: dB[o,k] += s·Σ_n dy[n,o]·h[n,k]     one work-item per (o, k), n in order
 * backwardH: dh[n,k]  = s·Σ_o dy[n,o]·B[o,k]     one work-item per (n, k), written: scratch that Matmul's products read next
 * </pre>
 *
 * r is small (1–64), so a plain work-item per output is enough: the B-side products cost r/C of the frozen matmul's.
 * Each output is one sum in a fixed order, then scaled once: a run is reproducible. B and dB may be views of a slab:
 * each comes as the slab and the view's offset in it (a plain array and 0 otherwise). The JVM backend runs
 * {@link LoraVector}: the same sums, in vectors across outputs.
 */
public final class Lora {

    private Lora() {
    }

    /** y[N,OC] += scale·h[N,r]·Bᵀ. */
    public static void loraForward(FloatArray y, FloatArray h, FloatArray b, int bOff, float scale, int N, int OC, int r) {
        for (@Parallel int i = 0; i < N * OC; i++) {
            forwardAt(y, h, b, bOff, scale, OC, r, i);
        }
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

    /** Output i = n·OC + o of the forward. */
    public static void forwardAt(FloatArray y, FloatArray h, FloatArray b, int bOff, float scale, int OC, int r, int i) {
        int n = i / OC;
        int o = i % OC;
        float sum = 0f;
        for (int k = 0; k < r; k++) {
            sum += h.get(n * r + k) * b.get(bOff + o * r + k);
        }
        y.set(i, y.get(i) + scale * sum);
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
