package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Causal multi-head self-attention (GPT-2). qkv is [B, T, 3C]: per position q = [0, C), k = [C, 2C), v = [2C, 3C);
 * head h of NH uses columns h·hs .. h·hs + hs − 1 of each, hs = C / NH. att is [B, NH, T, T], out is [B, T, C].
 *
 * <pre>
 * forward:  s(t,t2) = q_t·k_t2 / √hs for t2 ≤ t;  att(t,·) = softmax(s(t,·)), 0 for t2 > t;  out_t = Σ_t2 att(t,t2)·v_t2
 * backward: datt = dout·vᵀ;  dpreatt = att ⊙ (datt − Σ_t2 att·datt);  dq += dpreatt·k / √hs;
 *           dk += dpreattᵀ·q / √hs;  dv += attᵀ·dout
 * </pre>
 *
 * A query row is the pair (b, h) and the position t, numbered r = (b·NH + h)·T + t, so that att's row r starts at
 * r·T. On a device, one work-group per query row: its work-items stride over t2 for scores (max and sum reduced in
 * local memory), then over the head's hs columns for the weighted sums, which read the whole att row: a global
 * barrier orders them. dk and dv are a second kernel, one work-item per (column, key row), summing over the query
 * rows t ≥ t2, so every gradient element has one writer and a fixed summation order. The backward needs a scratch
 * dpreatt of att's size. The q row is not staged in local memory: all work-items read it at the same addresses, so
 * the cache already serves it as a broadcast. The JVM backend runs {@link AttentionVector} instead of these rows.
 */
public final class Attention {

    /** Work-items per query row on a device; a power of two for the tree reductions. */
    public static final int GROUP = 64;

    private Attention() {
    }

    /** out and att for one query row per work-group. */
    public static void attentionForward(KernelContext ctx, FloatArray out, FloatArray att, FloatArray qkv, int T, int C, int NH) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = scoresMax(att, qkv, r, T, C, NH, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] = TornadoMath.max(partial[lid], partial[lid + s]);
            }
        }
        ctx.localBarrier();
        float max = partial[0];
        ctx.localBarrier(); // all have read partial[0] before it is reused
        partial[lid] = expSum(att, r, T, max, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        normalize(att, r, T, 1f / partial[0], lid, step);
        ctx.globalBarrier(); // the att row, written by all work-items, is complete before any reads it
        weightedValues(out, att, qkv, r, T, C, NH, lid, step);
    }

    /** The forward of one query row by one thread: the scalar baseline that {@link AttentionVector} is timed against. */
    public static void attentionForwardRow(FloatArray out, FloatArray att, FloatArray qkv, int r, int T, int C, int NH) {
        float max = scoresMax(att, qkv, r, T, C, NH, 0, 1);
        float sum = expSum(att, r, T, max, 0, 1);
        normalize(att, r, T, 1f / sum, 0, 1);
        weightedValues(out, att, qkv, r, T, C, NH, 0, 1);
    }

    /** dpreatt and dq for one query row per work-group; dk and dv come after, from {@link #attentionBackwardKeyValue}. */
    public static void attentionBackwardQuery(KernelContext ctx, FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv,
            FloatArray att, int T, int C, int NH) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = valueGradDots(dpreatt, att, dout, qkv, r, T, C, NH, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        softmaxBackward(dpreatt, att, r, T, partial[0], lid, step);
        ctx.globalBarrier(); // the dpreatt row is complete before any work-item reads it
        queryGrad(dqkv, dpreatt, qkv, r, T, C, NH, lid, step);
    }

    /** The backward of one query row by one thread (dpreatt and dq): the scalar baseline of {@link AttentionVector}. */
    public static void attentionBackwardQueryRow(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att,
            int r, int T, int C, int NH) {
        float sum = valueGradDots(dpreatt, att, dout, qkv, r, T, C, NH, 0, 1);
        softmaxBackward(dpreatt, att, r, T, sum, 0, 1);
        queryGrad(dqkv, dpreatt, qkv, r, T, C, NH, 0, 1);
    }

    /**
     * dk and dv: one work-item per (column i, key row r) of the rows = B·NH·T key rows. The column is the first
     * (fastest) dimension, so neighbouring work-items read neighbouring floats of q and dout.
     */
    public static void attentionBackwardKeyValue(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att,
            int rows, int T, int C, int NH) {
        for (@Parallel int i = 0; i < C / NH; i++) {
            for (@Parallel int r = 0; r < rows; r++) {
                keyValueGrad(dqkv, dpreatt, dout, qkv, att, r, i, T, C, NH);
            }
        }
    }

    /** dk and dv at column i of key row r (position t2): sums over the query rows t ≥ t2 that attend to it. */
    public static void keyValueGrad(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att, int r, int i,
            int T, int C, int NH) {
        int t2 = r % T;
        int bh = r / T;
        int hs = C / NH;
        int pos = (bh / NH) * T + t2; // position of key row t2 among the B·T
        int head = (bh % NH) * hs;
        int column = (bh * T + t2) * T + t2; // att(t2, t2); att(t, t2) is T·(t − t2) further
        float dk = weightedSum(dpreatt, column, T, T - t2, qkv, pos * 3 * C + head + i, 3 * C);
        float dv = weightedSum(att, column, T, T - t2, dout, pos * C + head + i, C);
        int k = pos * 3 * C + C + head + i;
        dqkv.set(k, dqkv.get(k) + dk * scale(hs));
        dqkv.set(k + C, dqkv.get(k + C) + dv);
    }

    /** Writes the scaled scores s(t, t2) into att for this work-item's t2 ≤ t; returns their max. */
    static float scoresMax(FloatArray att, FloatArray qkv, int r, int T, int C, int NH, int from, int step) {
        int t = r % T;
        int bh = r / T;
        int hs = C / NH;
        int seq = (bh / NH) * T;
        int head = (bh % NH) * hs;
        float scale = scale(hs);
        int q = (seq + t) * 3 * C + head;
        float max = -Float.MAX_VALUE;
        for (int t2 = from; t2 <= t; t2 += step) {
            float s = dot(qkv, q, qkv, (seq + t2) * 3 * C + C + head, hs) * scale;
            att.set(r * T + t2, s);
            max = TornadoMath.max(max, s);
        }
        return max;
    }

    /** Replaces the scores by exp(s − max); returns their sum. */
    static float expSum(FloatArray att, int r, int T, float max, int from, int step) {
        int t = r % T;
        float sum = 0f;
        for (int t2 = from; t2 <= t; t2 += step) {
            float e = TornadoMath.exp(att.get(r * T + t2) - max);
            att.set(r * T + t2, e);
            sum += e;
        }
        return sum;
    }

    /** Scales the row by 1/sum into probabilities; the masked t2 > t become 0. */
    static void normalize(FloatArray att, int r, int T, float invSum, int from, int step) {
        int t = r % T;
        for (int t2 = from; t2 < T; t2 += step) {
            att.set(r * T + t2, t2 <= t ? att.get(r * T + t2) * invSum : 0f);
        }
    }

    static void weightedValues(FloatArray out, FloatArray att, FloatArray qkv, int r, int T, int C, int NH, int from, int step) {
        int t = r % T;
        int bh = r / T;
        int hs = C / NH;
        int seq = (bh / NH) * T;
        int head = (bh % NH) * hs;
        for (int i = from; i < hs; i += step) {
            out.set((seq + t) * C + head + i, weightedSum(att, r * T, 1, t + 1, qkv, seq * 3 * C + 2 * C + head + i, 3 * C));
        }
    }

    /** Writes datt(t, t2) = dout_t·v_t2 into dpreatt for this work-item's t2 ≤ t; returns their Σ att·datt. */
    static float valueGradDots(FloatArray dpreatt, FloatArray att, FloatArray dout, FloatArray qkv, int r, int T, int C, int NH, int from,
            int step) {
        int t = r % T;
        int bh = r / T;
        int hs = C / NH;
        int seq = (bh / NH) * T;
        int head = (bh % NH) * hs;
        float sum = 0f;
        for (int t2 = from; t2 <= t; t2 += step) {
            float d = dot(dout, (seq + t) * C + head, qkv, (seq + t2) * 3 * C + 2 * C + head, hs);
            dpreatt.set(r * T + t2, d);
            sum += att.get(r * T + t2) * d;
        }
        return sum;
    }

    /** Softmax backward: dpreatt = att·(datt − Σ att·datt), in place over datt. */
    static void softmaxBackward(FloatArray dpreatt, FloatArray att, int r, int T, float sum, int from, int step) {
        int t = r % T;
        for (int t2 = from; t2 <= t; t2 += step) {
            dpreatt.set(r * T + t2, att.get(r * T + t2) * (dpreatt.get(r * T + t2) - sum));
        }
    }

    static void queryGrad(FloatArray dqkv, FloatArray dpreatt, FloatArray qkv, int r, int T, int C, int NH, int from, int step) {
        int t = r % T;
        int bh = r / T;
        int hs = C / NH;
        int seq = (bh / NH) * T;
        int head = (bh % NH) * hs;
        float scale = scale(hs);
        for (int i = from; i < hs; i += step) {
            int q = (seq + t) * 3 * C + head + i;
            dqkv.set(q, dqkv.get(q) + weightedSum(dpreatt, r * T, 1, t + 1, qkv, seq * 3 * C + C + head + i, 3 * C) * scale);
        }
    }

    /** 1/√hs, the scores' scale. */
    static float scale(int hs) {
        return 1f / TornadoMath.sqrt((float) hs);
    }

    /** Σ_j<n a[ai + j]·b[bi + j]. */
    static float dot(FloatArray a, int ai, FloatArray b, int bi, int n) {
        float s = 0f;
        for (int j = 0; j < n; j++) {
            s += a.get(ai + j) * b.get(bi + j);
        }
        return s;
    }

    /** Σ_j<n w[w0 + j·ws]·x[x0 + j·xs]: a column of stacked rows x weighted by w. */
    static float weightedSum(FloatArray w, int w0, int ws, int n, FloatArray x, int x0, int xs) {
        float s = 0f;
        for (int j = 0; j < n; j++) {
            s += w.get(w0 + j * ws) * x.get(x0 + j * xs);
        }
        return s;
    }
}
