package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Causal attention over a sparse set of keys per query: the factorized patterns of the Sparse Transformer (Child et
 * al. 2019) in their "merged" form, one head type whose query attends to the union of both of the pattern's sets,
 * and GPT-3's locally banded layers. Query t may attend to key t2 ≤ t when
 *
 * <pre>
 * STRIDED(l):   t − t2 &lt; l  or  (t − t2) mod l = 0          local window plus every l-th earlier position
 * FIXED(l, c):  ⌊t2/l⌋ = ⌊t/l⌋  or  t2 mod l ≥ l − c          own block of l plus the last c "summary" columns of every block
 * BANDED(w):    t − t2 &lt; w                                   local band
 * </pre>
 *
 * (l and w are the {@code span}, c the {@code summary}). Query t's allowed keys are enumerated by index arithmetic,
 * in ascending order, as its slots j = 0 .. keyCount(t) − 1 ({@link #key}); key t2's queries likewise ({@link
 * #query}), with the slot t2 holds in query t's list ({@link #slot}). Work is proportional to the allowed pairs:
 * O(l + t/l) per query for STRIDED, O(l + c·t/l) for FIXED, O(w) for BANDED; no dense score row exists.
 *
 * <pre>
 * qkv [B, T, 3C]: q, k, v of each position; NH heads of hs = C/NH channels, head h at channels h·hs ..
 * forward:  s_j = q_t·k_key(j) / √hs;  att[b,h,t,j] = softmax_j(s);  out_t = Σ_j att_j·v_key(j)
 * backward: datt_j = att_j·(dout_t·v_key(j) − Σ_i att_i·dout_t·v_key(i))            (the score gradient)
 *           dq_t += Σ_j datt_j·k_key(j) / √hs;  dk_t2 += Σ_t datt_slot·q_t / √hs;  dv_t2 += Σ_t att_slot·dout_t
 * </pre>
 *
 * att and datt are [B, NH, T, K] with K = {@link #maxKeys}; slots past a query's keyCount hold 0 in att. On a
 * device, the forward and the query side of the backward run one work-group per query row (b, h, t): work-items
 * stride over the row's keys, reduce in local memory, write the row to att or datt, and after a barrier stride over
 * the head's channels. dk and dv come from one work-item per element, summing over the key's queries in ascending
 * order (no atomics, reproducible). The JVM backend runs {@link SparseAttentionVector}, the same math with the Vector API.
 */
public final class SparseAttention {

    public static final int STRIDED = 0;
    public static final int FIXED = 1;
    public static final int BANDED = 2;
    /** Work-items per query row on a device; a power of two for the tree reductions. */
    public static final int GROUP = 64;

    private SparseAttention() {
    }

    public static void sparseAttentionForward(KernelContext ctx, FloatArray out, FloatArray att, FloatArray qkv, int T, int C, int NH,
            int K, int pattern, int span, int summary) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = scores(att, qkv, row, T, C, NH, K, pattern, span, summary, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] = TornadoMath.max(partial[lid], partial[lid + s]);
            }
        }
        ctx.localBarrier();
        float max = partial[0];
        ctx.localBarrier(); // all have read partial[0] before it is reused
        partial[lid] = exponentiate(att, row, T, K, pattern, span, summary, max, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        normalize(att, row, T, K, pattern, span, summary, 1f / partial[0], lid, step);
        ctx.globalBarrier(); // the whole probability row is in att before any work-item sums values with it
        weightedValues(out, att, qkv, row, T, C, NH, K, pattern, span, summary, lid, step);
    }

    /** The score gradients of one query row into datt, and its dq; dk and dv come from {@link #sparseAttentionBackwardKeys}. */
    public static void sparseAttentionBackwardQueries(KernelContext ctx, FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv,
            FloatArray att, int T, int C, int NH, int K, int pattern, int span, int summary) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = probabilityGrads(datt, dout, qkv, att, row, T, C, NH, K, pattern, span, summary, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        scoreGrads(datt, att, row, T, K, pattern, span, summary, partial[0], lid, step);
        ctx.globalBarrier(); // the whole score-gradient row is in datt before any work-item sums keys with it
        queryGrads(dqkv, datt, qkv, row, T, C, NH, K, pattern, span, summary, lid, step);
    }

    /** dk and dv, one element of [B, T, C] per work-item; runs after {@link #sparseAttentionBackwardQueries} filled datt. */
    public static void sparseAttentionBackwardKeys(FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int B,
            int T, int C, int NH, int K, int pattern, int span, int summary) {
        for (@Parallel int i = 0; i < B * T * C; i++) {
            keyValueGrads(dqkv, datt, dout, qkv, att, i, T, C, NH, K, pattern, span, summary);
        }
    }

    /** dk and dv of element i = (b·T + t2)·C + h·hs + d: sums over the queries that attend to key t2. */
    public static void keyValueGrads(FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int i, int T, int C,
            int NH, int K, int pattern, int span, int summary) {
        int b = i / (T * C);
        int t2 = i / C % T;
        int c = i % C;
        int rows = (b * NH + c / (C / NH)) * T;
        float dk = 0f;
        float dv = 0f;
        int queries = queryCount(pattern, span, summary, t2, T);
        for (int n = 0; n < queries; n++) {
            int t = query(pattern, span, summary, t2, n);
            int a = (rows + t) * K + slot(pattern, span, summary, t, t2);
            dk += datt.get(a) * qkv.get((b * T + t) * 3 * C + c);
            dv += att.get(a) * dout.get((b * T + t) * C + c);
        }
        int k = (b * T + t2) * 3 * C + C + c;
        dqkv.set(k, dqkv.get(k) + dk * (1f / TornadoMath.sqrt((float) (C / NH))));
        dqkv.set(k + C, dqkv.get(k + C) + dv);
    }

    // ---- the patterns, by index arithmetic ----

    /** How many keys query t attends to. */
    public static int keyCount(int pattern, int span, int summary, int t) {
        if (pattern == STRIDED) {
            return t / span + TornadoMath.min(t + 1, span);
        }
        if (pattern == FIXED) {
            return t / span * summary + t % span + 1;
        }
        return TornadoMath.min(t + 1, span);
    }

    /** Query t's j-th key, ascending: STRIDED's every-l-th positions then its window; FIXED's summaries then its block. */
    public static int key(int pattern, int span, int summary, int t, int j) {
        if (pattern == STRIDED) {
            int strided = t / span;
            if (j < strided) {
                return t % span + j * span;
            }
            return TornadoMath.max(0, t - span + 1) + j - strided;
        }
        if (pattern == FIXED) {
            int block = t / span;
            int summaries = block * summary;
            if (j < summaries) {
                return j / summary * span + span - summary + j % summary;
            }
            return block * span + j - summaries;
        }
        return TornadoMath.max(0, t - span + 1) + j;
    }

    /** Where key t2 sits in query t's list; t must attend to t2. */
    public static int slot(int pattern, int span, int summary, int t, int t2) {
        if (pattern == STRIDED) {
            if (t - t2 < span) {
                return t / span + t2 - TornadoMath.max(0, t - span + 1);
            }
            return t2 / span;
        }
        if (pattern == FIXED) {
            int block = t / span;
            if (t2 / span == block) {
                return block * summary + t2 - block * span;
            }
            return t2 / span * summary + t2 % span - (span - summary);
        }
        return t2 - TornadoMath.max(0, t - span + 1);
    }

    /** How many queries of a sequence of T attend to key t2. */
    public static int queryCount(int pattern, int span, int summary, int t2, int T) {
        if (pattern == STRIDED) {
            return TornadoMath.min(T - t2, span) + (T - 1 - t2) / span;
        }
        if (pattern == FIXED) {
            if (t2 % span >= span - summary) {
                return T - t2;
            }
            return TornadoMath.min(T, (t2 / span + 1) * span) - t2;
        }
        return TornadoMath.min(T - t2, span);
    }

    /** The n-th query, ascending, that attends to key t2: STRIDED's window then every l-th later position; else a range. */
    public static int query(int pattern, int span, int summary, int t2, int n) {
        if (pattern == STRIDED && n >= span) {
            return t2 + (n - span + 1) * span;
        }
        return t2 + n;
    }

    /** K: the most keys any query of a sequence of T attends to (host side, for sizing att). */
    public static int maxKeys(int pattern, int span, int summary, int T) {
        int k = 0;
        for (int t = 0; t < T; t++) {
            k = Math.max(k, keyCount(pattern, span, summary, t));
        }
        return k;
    }

    /** The pattern's definition as a mask (host side): what the enumeration above must produce. */
    public static boolean allows(int pattern, int span, int summary, int t, int t2) {
        if (t2 < 0 || t2 > t) {
            return false;
        }
        if (pattern == STRIDED) {
            return t - t2 < span || (t - t2) % span == 0;
        }
        if (pattern == FIXED) {
            return t2 / span == t / span || t2 % span >= span - summary;
        }
        return t - t2 < span;
    }

    // ---- per-row steps, shared by the device kernels (from = localIdx, step = group size) and the JVM backend ----

    /** Offset in qkv of the q of position t2, in the batch and head of query row (b·NH + h)·T + t; + C for k, + 2C for v. */
    static int headOffset(int row, int t2, int T, int C, int NH) {
        return (row / (T * NH) * T + t2) * 3 * C + row / T % NH * (C / NH);
    }

    /** Offset in [B, T, C] of the row's query position and head. */
    static int outOffset(int row, int T, int C, int NH) {
        return (row / (T * NH) * T + row % T) * C + row / T % NH * (C / NH);
    }

    /** Scaled scores of the row's keys into att; returns their max. */
    static float scores(FloatArray att, FloatArray qkv, int row, int T, int C, int NH, int K, int pattern, int span, int summary, int from,
            int step) {
        int t = row % T;
        int hs = C / NH;
        float scale = 1f / TornadoMath.sqrt((float) hs);
        int q = headOffset(row, t, T, C, NH);
        int keys = keyCount(pattern, span, summary, t);
        float max = -Float.MAX_VALUE;
        for (int j = from; j < keys; j += step) {
            int k = headOffset(row, key(pattern, span, summary, t, j), T, C, NH) + C;
            float s = 0f;
            for (int d = 0; d < hs; d++) {
                s += qkv.get(q + d) * qkv.get(k + d);
            }
            s *= scale;
            att.set(row * K + j, s);
            max = TornadoMath.max(max, s);
        }
        return max;
    }

    /** exp(score − max) in place; returns their sum. */
    static float exponentiate(FloatArray att, int row, int T, int K, int pattern, int span, int summary, float max, int from, int step) {
        int keys = keyCount(pattern, span, summary, row % T);
        float sum = 0f;
        for (int j = from; j < keys; j += step) {
            float e = TornadoMath.exp(att.get(row * K + j) - max);
            att.set(row * K + j, e);
            sum += e;
        }
        return sum;
    }

    /** Scales the row's exponentials by 1/sum; slots past the row's keys get 0. */
    static void normalize(FloatArray att, int row, int T, int K, int pattern, int span, int summary, float inverseSum, int from, int step) {
        int keys = keyCount(pattern, span, summary, row % T);
        for (int j = from; j < K; j += step) {
            att.set(row * K + j, j < keys ? att.get(row * K + j) * inverseSum : 0f);
        }
    }

    /** out_t = Σ_j att_j·v_key(j), channels from, from + step, ... of the head. */
    static void weightedValues(FloatArray out, FloatArray att, FloatArray qkv, int row, int T, int C, int NH, int K, int pattern, int span,
            int summary, int from, int step) {
        int t = row % T;
        int o = outOffset(row, T, C, NH);
        int keys = keyCount(pattern, span, summary, t);
        for (int d = from; d < C / NH; d += step) {
            float s = 0f;
            for (int j = 0; j < keys; j++) {
                s += att.get(row * K + j) * qkv.get(headOffset(row, key(pattern, span, summary, t, j), T, C, NH) + 2 * C + d);
            }
            out.set(o + d, s);
        }
    }

    /** dout_t·v_key(j) into datt; returns Σ_j att_j·datt_j over the work-item's slots. */
    static float probabilityGrads(FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int row, int T, int C, int NH, int K,
            int pattern, int span, int summary, int from, int step) {
        int t = row % T;
        int hs = C / NH;
        int o = outOffset(row, T, C, NH);
        int keys = keyCount(pattern, span, summary, t);
        float dot = 0f;
        for (int j = from; j < keys; j += step) {
            int v = headOffset(row, key(pattern, span, summary, t, j), T, C, NH) + 2 * C;
            float dp = 0f;
            for (int d = 0; d < hs; d++) {
                dp += dout.get(o + d) * qkv.get(v + d);
            }
            datt.set(row * K + j, dp);
            dot += att.get(row * K + j) * dp;
        }
        return dot;
    }

    /** Softmax backward in place: datt_j = att_j·(datt_j − dot). */
    static void scoreGrads(FloatArray datt, FloatArray att, int row, int T, int K, int pattern, int span, int summary, float dot, int from,
            int step) {
        int keys = keyCount(pattern, span, summary, row % T);
        for (int j = from; j < keys; j += step) {
            datt.set(row * K + j, att.get(row * K + j) * (datt.get(row * K + j) - dot));
        }
    }

    /** dq_t += Σ_j datt_j·k_key(j) / √hs, channels from, from + step, ... of the head. */
    static void queryGrads(FloatArray dqkv, FloatArray datt, FloatArray qkv, int row, int T, int C, int NH, int K, int pattern, int span,
            int summary, int from, int step) {
        int t = row % T;
        int hs = C / NH;
        float scale = 1f / TornadoMath.sqrt((float) hs);
        int q = headOffset(row, t, T, C, NH);
        int keys = keyCount(pattern, span, summary, t);
        for (int d = from; d < hs; d += step) {
            float s = 0f;
            for (int j = 0; j < keys; j++) {
                s += datt.get(row * K + j) * qkv.get(headOffset(row, key(pattern, span, summary, t, j), T, C, NH) + C + d);
            }
            dqkv.set(q + d, dqkv.get(q + d) + s * scale);
        }
    }
}
