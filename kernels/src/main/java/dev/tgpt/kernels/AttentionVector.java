package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's {@link Attention}: the same math, one head of one sequence (bh = b·NH + h) per call, as small
 * matrix products with the Vector API. The head's q, k, v (and dout) are first copied into heap arrays with rows
 * padded to whole vectors, k and v also transposed, so that each product is a run of one register tile:
 * {@link #tile} sums a[row, κ]·b[κ, columns] for 4 rows and one vector of columns, broadcasting a and loading b,
 * with no horizontal reductions. Causality: a block of 4 rows computes up to its last row's limit; the extra scores
 * are masked by the softmax, and the extra terms of the other products are exact zeros (att and dpreatt are 0 for
 * t2 > t). Calls for different bh write disjoint elements, and every sum runs in a fixed order.
 */
public final class AttentionVector {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Rows of a tile: four independent accumulators hide the latency of the fused multiply-add. */
    private static final int ROWS = 4;

    private AttentionVector() {
    }

    /** out and att of head bh. */
    public static void forward(FloatArray out, FloatArray att, FloatArray qkv, int bh, int T, int C, int NH) {
        Head g = new Head(bh, T, C, NH);
        MemorySegment x = qkv.getSegment();
        float[] q = g.rows(x, g.q, 3 * C, g.tPad);
        float[] kT = g.columns(x, g.q + C, 3 * C);
        float[] v = g.rows(x, g.q + 2 * C, 3 * C, T);
        float[] p = g.causalProduct(q, kT);
        MemorySegment a = att.getSegment();
        for (int t = 0; t < T; t++) {
            softmax(p, t * g.tPad, t + 1, g.tPad, g.scale);
            store(p, t * g.tPad, a, g.attRow(t), T);
        }
        float[] o = g.weightedRows(p, v);
        MemorySegment y = out.getSegment();
        for (int t = 0; t < T; t++) {
            store(o, t * g.hsCols, y, (long) (g.seq + t) * C + g.head, g.hs);
        }
    }

    /** dpreatt and dq of head bh; dk and dv come from {@link #backwardKeyValue} once this head's dpreatt is done. */
    public static void backwardQuery(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att, int bh, int T,
            int C, int NH) {
        Head g = new Head(bh, T, C, NH);
        MemorySegment x = qkv.getSegment();
        float[] dy = g.rows(dout.getSegment(), (long) g.seq * C + g.head, C, g.tPad);
        float[] vT = g.columns(x, g.q + 2 * C, 3 * C);
        float[] k = g.rows(x, g.q + C, 3 * C, T);
        float[] p = g.causal(att.getSegment(), g.tPad);
        float[] d = g.causalProduct(dy, vT);
        MemorySegment dp = dpreatt.getSegment();
        for (int t = 0; t < T; t++) {
            softmaxBackward(d, p, t * g.tPad, t + 1, g.tPad);
            store(d, t * g.tPad, dp, g.attRow(t), T);
        }
        g.addRows(dqkv.getSegment(), g.q, g.weightedRows(d, k), g.scale);
    }

    /** dk and dv of head bh, from its dpreatt and att: key row t2 sums over the query rows t ≥ t2. */
    public static void backwardKeyValue(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att, int bh, int T,
            int C, int NH) {
        Head g = new Head(bh, T, C, NH);
        MemorySegment x = qkv.getSegment();
        float[] q = g.rows(x, g.q, 3 * C, T);
        float[] dy = g.rows(dout.getSegment(), (long) g.seq * C + g.head, C, T);
        float[] ds = g.causal(dpreatt.getSegment(), g.skewed);
        float[] p = g.causal(att.getSegment(), g.skewed);
        MemorySegment dx = dqkv.getSegment();
        g.addRows(dx, g.q + C, g.weightedColumns(ds, q), g.scale);
        g.addRows(dx, g.q + 2 * C, g.weightedColumns(p, dy), 1f);
    }

    /**
     * c[r + j, col .. col + L) = Σ_κ∈[k0,k1) a[(r + j)·ar + κ·ak] · b[κ·ldb + col ..] for j < 4: a strided (so it can be
     * read transposed), b and c row-major with whole vectors of columns.
     */
    static void tile(float[] a, int ar, int ak, int r, float[] b, int ldb, int col, int k0, int k1, float[] c, int ldc) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        FloatVector c3 = FloatVector.zero(S);
        int a0 = r * ar;
        for (int kk = k0; kk < k1; kk++) {
            FloatVector bv = FloatVector.fromArray(S, b, kk * ldb + col);
            int ai = a0 + kk * ak;
            c0 = bv.fma(FloatVector.broadcast(S, a[ai]), c0);
            c1 = bv.fma(FloatVector.broadcast(S, a[ai + ar]), c1);
            c2 = bv.fma(FloatVector.broadcast(S, a[ai + 2 * ar]), c2);
            c3 = bv.fma(FloatVector.broadcast(S, a[ai + 3 * ar]), c3);
        }
        c0.intoArray(c, r * ldc + col);
        c1.intoArray(c, (r + 1) * ldc + col);
        c2.intoArray(c, (r + 2) * ldc + col);
        c3.intoArray(c, (r + 3) * ldc + col);
    }

    /** Row [off, off + width) of raw scores: softmax of the first n, scaled by scale; the rest become 0. */
    static void softmax(float[] p, int off, int n, int width, float scale) {
        FloatVector max = FloatVector.broadcast(S, -Float.MAX_VALUE);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector s = FloatVector.fromArray(S, p, off + j, m).mul(scale);
            s.intoArray(p, off + j, m);
            max = max.max(s.blend(max, m.not()));
        }
        float mx = max.reduceLanes(VectorOperators.MAX);
        // VectorRows.exps works on segments off the heap (one kind only, so C2 compiles it for that): via a scratch copy
        MemorySegment e = VectorRows.scratch(n + L);
        MemorySegment.copy(p, off, e, JAVA_FLOAT, 0, n);
        float inv = 1f / VectorRows.exps(e, 0, 1f, mx, n, e);
        MemorySegment.copy(e, JAVA_FLOAT, 0, p, off, n);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            FloatVector.fromArray(S, p, off + j, m).mul(inv).intoArray(p, off + j, m);
        }
        Arrays.fill(p, off + n, off + width, 0f);
    }

    /** Row [off, off + width) of datt becomes dpreatt = att·(datt − Σ_t2<n att·datt); att is 0 beyond n. */
    static void softmaxBackward(float[] d, float[] p, int off, int n, int width) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = S.indexInRange(j, n);
            acc = FloatVector.fromArray(S, p, off + j, m).fma(FloatVector.fromArray(S, d, off + j, m), acc);
        }
        float sum = VectorRows.addLanes(acc);
        for (int j = 0; j < width; j += L) {
            FloatVector.fromArray(S, p, off + j).mul(FloatVector.fromArray(S, d, off + j).sub(sum)).intoArray(d, off + j);
        }
    }

    /** Where head bh's rows live, and the padded sizes of its heap copies. */
    private static final class Head {
        final int T;
        final int C;
        final int hs;
        final int bh;
        /** Its sequence's first position among the B·T. */
        final int seq;
        /** Its first column within q (and k, v, out). */
        final int head;
        /** Index of q's first element at position seq. */
        final long q;
        final float scale;
        /** Row length of hs padded to whole vectors. */
        final int hsCols;
        /** T padded to whole tiles and whole vectors: rows and row length of the heap copies. */
        final int tPad;
        /**
         * Row length of an array read down its columns: one vector longer than tPad, so that successive rows do not
         * map to the same cache set (a row of 1024 floats is 4 KiB).
         */
        final int skewed;

        Head(int bh, int T, int C, int NH) {
            this.T = T;
            this.C = C;
            this.bh = bh;
            hs = C / NH;
            seq = (bh / NH) * T;
            head = (bh % NH) * hs;
            q = (long) seq * 3 * C + head;
            scale = Attention.scale(hs);
            hsCols = round(hs, L);
            tPad = round(T, Math.max(ROWS, L));
            skewed = tPad + L;
        }

        long attRow(int t) {
            return ((long) bh * T + t) * T;
        }

        /** The head's T rows of hs from x[first + t·stride ..], as rows of hsCols, in an array of n rows. */
        float[] rows(MemorySegment x, long first, long stride, int n) {
            float[] a = new float[n * hsCols];
            for (int t = 0; t < T; t++) {
                load(x, first + t * stride, hs, a, t * hsCols);
            }
            return a;
        }

        /** The same rows transposed: hs rows of length skewed, [i, t] = x[first + t·stride + i]. */
        float[] columns(MemorySegment x, long first, long stride) {
            float[] a = new float[hs * skewed];
            for (int t = 0; t < T; t++) {
                for (int i = 0; i < hs; i++) {
                    a[i * skewed + t] = x.getAtIndex(JAVA_FLOAT, first + t * stride + i);
                }
            }
            return a;
        }

        /** The head's T × T block of att or dpreatt, entries t2 ≤ t only (the rest 0), as rows of the given width. */
        float[] causal(MemorySegment x, int width) {
            float[] a = new float[tPad * width];
            for (int t = 0; t < T; t++) {
                load(x, attRow(t), t + 1, a, t * width);
            }
            return a;
        }

        /**
         * a·bᵀ for a of tPad rows of hsCols and bT of hs rows of skewed (b transposed): [t, t2] for t2 ≤ t, and beyond
         * up to the end of t's block of rows and vector of columns.
         */
        float[] causalProduct(float[] a, float[] bT) {
            float[] c = new float[tPad * tPad];
            for (int r = 0; r < T; r += ROWS) {
                for (int col = 0; col < Math.min(r + ROWS, T); col += L) {
                    tile(a, hsCols, 1, r, bT, skewed, col, 0, hs, c, tPad);
                }
            }
            return c;
        }

        /** w·b for w of tPad rows of tPad, 0 for t2 > t, and b of T rows of hsCols: row t sums b's rows t2 ≤ t. */
        float[] weightedRows(float[] w, float[] b) {
            float[] c = new float[tPad * hsCols];
            for (int col = 0; col < hs; col += L) {
                for (int r = 0; r < T; r += ROWS) {
                    tile(w, tPad, 1, r, b, hsCols, col, 0, Math.min(r + ROWS, T), c, hsCols);
                }
            }
            return c;
        }

        /** wᵀ·b for w of T rows of skewed, 0 for t2 > t, and b of T rows of hsCols: row t2 sums b's rows t ≥ t2. */
        float[] weightedColumns(float[] w, float[] b) {
            float[] c = new float[tPad * hsCols];
            for (int col = 0; col < hs; col += L) {
                for (int r = 0; r < T; r += ROWS) {
                    tile(w, 1, skewed, r, b, hsCols, col, r, T, c, hsCols);
                }
            }
            return c;
        }

        /** x[first + t·3C + i] += factor·a[t, i] for the head's T rows (x is dqkv). */
        void addRows(MemorySegment x, long first, float[] a, float factor) {
            for (int t = 0; t < T; t++) {
                long row = (first + (long) t * 3 * C) * Float.BYTES;
                for (int i = 0; i < hs; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, hs);
                    FloatVector.fromArray(S, a, t * hsCols + i).mul(factor)
                            .add(FloatVector.fromMemorySegment(S, x, row + (long) i * Float.BYTES, ORDER, m))
                            .intoMemorySegment(x, row + (long) i * Float.BYTES, ORDER, m);
                }
            }
        }
    }

    /** a[at ..] = x[index .. index + n), then zeros to a whole vector: a has room for it. */
    private static void load(MemorySegment x, long index, int n, float[] a, int at) {
        for (int j = 0; j < n; j += L) {
            FloatVector.fromMemorySegment(S, x, (index + j) * Float.BYTES, ORDER, S.indexInRange(j, n)).intoArray(a, at + j);
        }
    }

    /** x[index .. index + n) = a[at ..]. */
    private static void store(float[] a, int at, MemorySegment x, long index, int n) {
        for (int j = 0; j < n; j += L) {
            FloatVector.fromArray(S, a, at + j).intoMemorySegment(x, (index + j) * Float.BYTES, ORDER, S.indexInRange(j, n));
        }
    }

    private static int round(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
