package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's twin of {@link Lora}'s B side, with the Vector API. Each output is the work-item's sum, in the
 * work-item's order, as a product then an add (no fused multiply-add): the same bits as the work-item's Java code
 * (LoraTest checks it), since the vectors run across outputs (o for the forward and dB, k for dh), never along a sum. A call takes a block
 * of rows (or of dB's rows) so the backend can spread blocks over its threads; B may be a view of a slab.
 */
public final class LoraVector {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * Each thread's working rows, kept between launches (a training step runs these launches for every adapted layer):
     * dh's four rows of dy, and a row of h, four rows' dh or dB's four sums.
     */
    private static final ThreadLocal<float[]> ROWS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SMALL = ThreadLocal.withInitial(() -> new float[0]);

    private LoraVector() {
    }

    /** This thread's array of at least n floats from {@code local}; its contents are left over from earlier calls. */
    private static float[] scratch(ThreadLocal<float[]> local, int n) {
        float[] a = local.get();
        if (a.length < n) {
            a = new float[n];
            local.set(a);
        }
        return a;
    }

    /** Bᵀ [r, OC] of B [OC, r] on the heap: the forward reads B's columns as rows. Once per launch. */
    public static float[] transposed(FloatArray b, int OC, int r) {
        float[] bs = new float[OC * r];
        MemorySegment.copy(b.getSegment(), JAVA_FLOAT, 0, bs, 0, OC * r);
        float[] bt = new float[r * OC];
        for (int o = 0; o < OC; o++) {
            for (int k = 0; k < r; k++) {
                bt[k * OC + o] = bs[o * r + k];
            }
        }
        return bt;
    }

    /**
     * B [OC, r] on the heap with a vector's worth of zeros after it: dh's masked loads of the last row then lie inside
     * the array (one that reaches past the end takes a slow path). Once per launch.
     */
    public static float[] padded(FloatArray b, int OC, int r) {
        float[] bs = new float[OC * r + L];
        MemorySegment.copy(b.getSegment(), JAVA_FLOAT, 0, bs, 0, OC * r);
        return bs;
    }

    /** Rows n in [from, to) of y[N,OC] += scale·h·Bᵀ; bt is {@link #transposed}(B). */
    public static void forward(FloatArray y, FloatArray h, float[] bt, float scale, int OC, int r, int from, int to) {
        float[] hr = scratch(SMALL, r);
        for (int n = from; n < to; n++) {
            MemorySegment.copy(h.getSegment(), JAVA_FLOAT, 4L * n * r, hr, 0, r);
            addRow(y.getSegment(), (long) n * OC, bt, hr, scale, OC, r);
        }
    }

    /** y's row at base += scale·Σ_k hr[k]·bt[k, :]. */
    private static void addRow(MemorySegment ys, long base, float[] bt, float[] hr, float scale, int OC, int r) {
        for (int o = 0; o < OC; o += L) {
            VectorMask<Float> m = S.indexInRange(o, OC);
            FloatVector sum = FloatVector.zero(S);
            for (int k = 0; k < r; k++) {
                sum = sum.add(FloatVector.fromArray(S, bt, k * OC + o, m).mul(hr[k]));
            }
            long at = 4L * (base + o);
            FloatVector.fromMemorySegment(S, ys, at, ORDER, m).add(sum.mul(scale)).intoMemorySegment(ys, at, ORDER, m);
        }
    }

    /**
     * Rows o in [from, to) of dB[OC,r] += scale·dyᵀ·h, n in order; db may be a slab's view. A vector of o and four k
     * at a time: the four sums stay in registers down the n column (dy's rows are read a vector at a time), four
     * independent chains of adds.
     */
    public static void backwardB(FloatArray db, FloatArray dy, FloatArray h, float scale, int N, int OC, int r, int from, int to) {
        MemorySegment dys = dy.getSegment();
        MemorySegment hs = h.getSegment();
        MemorySegment dbs = db.getSegment();
        float[] sums = scratch(SMALL, 4 * L);
        for (int o = from; o < to; o += L) {
            VectorMask<Float> m = S.indexInRange(o, to);
            for (int k = 0; k < r; k += 4) {
                int kk = Math.min(4, r - k);
                FloatVector s0 = FloatVector.zero(S);
                FloatVector s1 = s0;
                FloatVector s2 = s0;
                FloatVector s3 = s0;
                for (int n = 0; n < N; n++) {
                    FloatVector d = FloatVector.fromMemorySegment(S, dys, 4L * ((long) n * OC + o), ORDER, m);
                    long hk = (long) n * r + k;
                    s0 = s0.add(d.mul(hs.getAtIndex(JAVA_FLOAT, hk)));
                    if (kk > 1) {
                        s1 = s1.add(d.mul(hs.getAtIndex(JAVA_FLOAT, hk + 1)));
                    }
                    if (kk > 2) {
                        s2 = s2.add(d.mul(hs.getAtIndex(JAVA_FLOAT, hk + 2)));
                    }
                    if (kk > 3) {
                        s3 = s3.add(d.mul(hs.getAtIndex(JAVA_FLOAT, hk + 3)));
                    }
                }
                s0.intoArray(sums, 0);
                s1.intoArray(sums, L);
                s2.intoArray(sums, 2 * L);
                s3.intoArray(sums, 3 * L);
                for (int j = 0; j < Math.min(L, to - o); j++) {
                    for (int i = 0; i < kk; i++) {
                        long at = (long) (o + j) * r + k + i;
                        dbs.setAtIndex(JAVA_FLOAT, at, dbs.getAtIndex(JAVA_FLOAT, at) + scale * sums[i * L + j]);
                    }
                }
            }
        }
    }

    /**
     * Rows n in [from, to) of dh[N,r] = scale·dy·B, o in order, bs being {@link #padded}(B); a vector runs across k (B's rows are k-contiguous). A
     * sum runs the length of a row, so four rows go together (the last rows as copies of the block's last): four
     * independent chains of adds keep the core busy.
     */
    public static void backwardH(FloatArray dh, FloatArray dy, float[] bs, float scale, int OC, int r, int from, int to) {
        float[] rows = scratch(ROWS, 4 * OC);
        float[] out = scratch(SMALL, 4 * r);
        MemorySegment dys = dy.getSegment();
        for (int n = from; n < to; n += 4) {
            for (int i = 0; i < 4; i++) {
                MemorySegment.copy(dys, JAVA_FLOAT, 4L * Math.min(n + i, to - 1) * OC, rows, i * OC, OC);
            }
            for (int k = 0; k < r; k += L) {
                fourRows(bs, rows, out, scale, OC, r, k);
            }
            MemorySegment.copy(out, 0, dh.getSegment(), JAVA_FLOAT, 4L * n * r, Math.min(4, to - n) * r);
        }
    }

    /** out[i·r + k..] = scale·Σ_o rows[i·OC + o]·B[o, k..] for the four rows i, the vector of k from k. */
    private static void fourRows(float[] bs, float[] rows, float[] out, float scale, int OC, int r, int k) {
        VectorMask<Float> m = S.indexInRange(k, r);
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int o = 0; o < OC; o++) {
            FloatVector bv = FloatVector.fromArray(S, bs, o * r + k, m);
            s0 = s0.add(bv.mul(rows[o]));
            s1 = s1.add(bv.mul(rows[OC + o]));
            s2 = s2.add(bv.mul(rows[2 * OC + o]));
            s3 = s3.add(bv.mul(rows[3 * OC + o]));
        }
        s0.mul(scale).intoArray(out, k, m);
        s1.mul(scale).intoArray(out, r + k, m);
        s2.mul(scale).intoArray(out, 2 * r + k, m);
        s3.mul(scale).intoArray(out, 3 * r + k, m);
    }
}
