package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's {@link SparseAttention}: the same math and layout, with the Vector API over a head's hs channels.
 * A query row's keys (or a key's queries) are enumerated once into arrays of offsets and weights, so that the inner
 * loops only load and multiply: {@link #dot} per (query, key) pair, {@link #weightedRows} for the sums of rows.
 *
 * <p>Deterministic for any thread count and JIT tier: a call writes only its own row's att/datt and out/dq elements,
 * or its own (b, t2, h) slice of dk and dv, and every sum runs in a fixed order (keys, then queries, ascending; lanes
 * added in lane order by {@link VectorRows#addLanes}); exps come from {@link VectorRows#exps}, not lanewise(EXP).
 */
public final class SparseAttentionVector {

    private SparseAttentionVector() {
    }

    /** att and out of query row (b·NH + h)·T + t. */
    public static void forwardRow(FloatArray out, FloatArray att, FloatArray qkv, int row, int T, int C, int NH, int K, int pattern,
            int span, int summary) {
        int t = row % T;
        int hs = C / NH;
        float scale = 1f / (float) Math.sqrt(hs);
        MemorySegment x = qkv.getSegment();
        MemorySegment a = att.getSegment();
        int q = SparseAttention.headOffset(row, t, T, C, NH);
        int[] kAt = keyOffsets(row, T, C, NH, pattern, span, summary);
        int keys = kAt.length;
        // scores, then exps in place, in this thread's scratch row (exps stores whole vectors: room for one more)
        MemorySegment s = VectorRows.scratch(keys + L);
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < keys; j++) {
            float sj = dot(x, q, x, kAt[j] + C, hs) * scale;
            s.setAtIndex(JAVA_FLOAT, j, sj);
            max = Math.max(max, sj);
        }
        float inv = 1f / VectorRows.exps(s, 0, 1f, max, keys, s);
        float[] p = new float[keys];
        for (int j = 0; j < keys; j++) {
            p[j] = s.getAtIndex(JAVA_FLOAT, j) * inv;
        }
        MemorySegment.copy(p, 0, a, JAVA_FLOAT, 4L * row * K, keys);
        a.asSlice(4L * ((long) row * K + keys), 4L * (K - keys)).fill((byte) 0);
        weightedRows(p, x, kAt, 2 * C, hs, 1f, out.getSegment(), SparseAttention.outOffset(row, T, C, NH), false);
    }

    /** datt and dq of query row (b·NH + h)·T + t; dk and dv come from {@link #keyValueGrads} once every row's datt is done. */
    public static void backwardQueryRow(FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int row, int T,
            int C, int NH, int K, int pattern, int span, int summary) {
        int hs = C / NH;
        MemorySegment x = qkv.getSegment();
        MemorySegment dy = dout.getSegment();
        MemorySegment a = att.getSegment();
        int o = SparseAttention.outOffset(row, T, C, NH);
        int[] kAt = keyOffsets(row, T, C, NH, pattern, span, summary);
        int keys = kAt.length;
        float[] d = new float[keys];
        float dot = 0f;
        for (int j = 0; j < keys; j++) {
            d[j] = dot(dy, o, x, kAt[j] + 2 * C, hs);
            dot += a.getAtIndex(JAVA_FLOAT, (long) row * K + j) * d[j];
        }
        for (int j = 0; j < keys; j++) {
            d[j] = a.getAtIndex(JAVA_FLOAT, (long) row * K + j) * (d[j] - dot);
        }
        MemorySegment.copy(d, 0, datt.getSegment(), JAVA_FLOAT, 4L * row * K, keys);
        weightedRows(d, x, kAt, C, hs, 1f / (float) Math.sqrt(hs), dqkv.getSegment(), SparseAttention.headOffset(row, row % T, T, C, NH),
                true);
    }

    /** dk and dv of key t2, head h, with i = (b·T + t2)·NH + h: sums over the queries that attend to t2, ascending. */
    public static void keyValueGrads(FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int i, int T, int C,
            int NH, int K, int pattern, int span, int summary) {
        int h = i % NH;
        int t2 = i / NH % T;
        int b = i / (NH * T);
        int hs = C / NH;
        int rows = (b * NH + h) * T;
        MemorySegment ds = datt.getSegment();
        MemorySegment p = att.getSegment();
        int queries = SparseAttention.queryCount(pattern, span, summary, t2, T);
        float[] wk = new float[queries];
        float[] wv = new float[queries];
        int[] qAt = new int[queries];
        int[] oAt = new int[queries];
        for (int n = 0; n < queries; n++) {
            int t = SparseAttention.query(pattern, span, summary, t2, n);
            long slot = (long) (rows + t) * K + SparseAttention.slot(pattern, span, summary, t, t2);
            wk[n] = ds.getAtIndex(JAVA_FLOAT, slot);
            wv[n] = p.getAtIndex(JAVA_FLOAT, slot);
            qAt[n] = (b * T + t) * 3 * C + h * hs;
            oAt[n] = (b * T + t) * C + h * hs;
        }
        MemorySegment dx = dqkv.getSegment();
        int k = (b * T + t2) * 3 * C + C + h * hs;
        weightedRows(wk, qkv.getSegment(), qAt, 0, hs, 1f / (float) Math.sqrt(hs), dx, k, true);
        weightedRows(wv, dout.getSegment(), oAt, 0, hs, 1f, dx, k + C, true);
    }

    /** Offsets in qkv of the q of each key of the row's query, in slot order (+ C for its k, + 2C for its v). */
    private static int[] keyOffsets(int row, int T, int C, int NH, int pattern, int span, int summary) {
        int t = row % T;
        int[] at = new int[SparseAttention.keyCount(pattern, span, summary, t)];
        for (int j = 0; j < at.length; j++) {
            at[j] = SparseAttention.headOffset(row, SparseAttention.key(pattern, span, summary, t, j), T, C, NH);
        }
        return at;
    }

    /** Σ_d x[i + d]·y[k + d] for d in [0, n), lanes added in order. */
    static float dot(MemorySegment x, int i, MemorySegment y, int k, int n) {
        FloatVector acc = FloatVector.zero(VectorRows.S);
        for (int d = 0; d < n; d += L) {
            VectorMask<Float> m = part(d, n);
            acc = load(x, i + d, m).fma(load(y, k + d, m), acc);
        }
        return VectorRows.addLanes(acc);
    }

    /**
     * y[yAt + d] = (add ? y[yAt + d] : 0) + factor·Σ_j w[j]·x[xAt[j] + shift + d] for d in [0, hs), j ascending: one
     * vector of channels at a time, so the running sum stays in a register over all the rows.
     */
    static void weightedRows(float[] w, MemorySegment x, int[] xAt, int shift, int hs, float factor, MemorySegment y, int yAt,
            boolean add) {
        for (int d = 0; d < hs; d += L) {
            VectorMask<Float> m = part(d, hs);
            FloatVector acc = FloatVector.zero(VectorRows.S);
            for (int j = 0; j < w.length; j++) {
                acc = load(x, xAt[j] + shift + d, m).fma(FloatVector.broadcast(VectorRows.S, w[j]), acc);
            }
            acc = acc.mul(factor);
            store(add ? acc.add(load(y, yAt + d, m)) : acc, y, yAt + d, m);
        }
    }
}
