package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

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
 * each comes as the slab and the view's offset in it (a plain array and 0 otherwise). The JVM backend calls the same
 * per-item helpers.
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

    // The JVM backend's paths: the same sums in the same order as the work-items', over rows copied to the heap
    // (element-wise reads of a FloatArray cost more than the r multiply-adds they feed).

    /** Rows n in [from, to) of the forward. */
    public static void forwardRows(FloatArray y, FloatArray h, FloatArray b, float scale, int OC, int r, int from, int to) {
        float[] bs = b.toHeapArray();
        float[] hr = new float[r];
        float[] yr = new float[OC];
        for (int n = from; n < to; n++) {
            MemorySegment.copy(h.getSegment(), JAVA_FLOAT, 4L * n * r, hr, 0, r);
            MemorySegment.copy(y.getSegment(), JAVA_FLOAT, 4L * n * OC, yr, 0, OC);
            for (int o = 0; o < OC; o++) {
                float sum = 0f;
                for (int k = 0; k < r; k++) {
                    sum += hr[k] * bs[o * r + k];
                }
                yr[o] += scale * sum;
            }
            MemorySegment.copy(yr, 0, y.getSegment(), JAVA_FLOAT, 4L * n * OC, OC);
        }
    }

    /** Rows o in [from, to) of dB: dy and h walked row by row instead of down dy's columns. */
    public static void backwardBRows(FloatArray db, FloatArray dy, FloatArray h, float scale, int N, int OC, int r, int from, int to) {
        float[] sums = new float[(to - from) * r];
        float[] dr = new float[to - from];
        float[] hr = new float[r];
        for (int n = 0; n < N; n++) {
            MemorySegment.copy(dy.getSegment(), JAVA_FLOAT, 4L * (n * OC + from), dr, 0, to - from);
            MemorySegment.copy(h.getSegment(), JAVA_FLOAT, 4L * n * r, hr, 0, r);
            for (int o = 0; o < to - from; o++) {
                for (int k = 0; k < r; k++) {
                    sums[o * r + k] += dr[o] * hr[k];
                }
            }
        }
        for (int i = 0; i < sums.length; i++) {
            int at = from * r + i;
            db.set(at, db.get(at) + scale * sums[i]);
        }
    }

    /** Rows n in [from, to) of dh. */
    public static void backwardHRows(FloatArray dh, FloatArray dy, FloatArray b, float scale, int OC, int r, int from, int to) {
        float[] bs = b.toHeapArray();
        float[] dr = new float[OC];
        float[] sums = new float[r];
        for (int n = from; n < to; n++) {
            MemorySegment.copy(dy.getSegment(), JAVA_FLOAT, 4L * n * OC, dr, 0, OC);
            java.util.Arrays.fill(sums, 0f);
            for (int o = 0; o < OC; o++) {
                for (int k = 0; k < r; k++) {
                    sums[k] += dr[o] * bs[o * r + k];
                }
            }
            for (int k = 0; k < r; k++) {
                dh.set(n * r + k, scale * sums[k]);
            }
        }
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
