package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Softmax over rows of T, with a scale and an optional causal mask: attention scores [B, NH, T, T], where row r
 * belongs to query position t = r mod T.
 *
 * <pre>
 * visible columns: t2 ≤ t when causal, all T otherwise; masked columns get y = 0
 * forward:  y = exp(s·x − m) / Σ exp(s·x − m) over the visible columns, m = max(s·x) over them (no overflow)
 * backward: dx += s·y⊙(dy − Σ y·dy)                                    (y = 0 where masked, so dx is unchanged there)
 * </pre>
 *
 * On a device, one work-group per row: its work-items stride over the row, then reduce in local memory. The JVM
 * backend runs {@link SoftmaxVector}. {@code causal} is 0 or 1.
 */
public final class Softmax {

    /** The most work-items per row on a device; a power of two for the tree reduction. */
    public static final int GROUP = 256;
    /** Below every finite float: the max of no elements. */
    static final float LOWEST = -Float.MAX_VALUE;

    private Softmax() {
    }

    public static void softmaxForward(KernelContext ctx, FloatArray out, FloatArray inp, float scale, int T, int causal) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int base = row * T;
        int visible = visibleColumns(row, T, causal);
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = scaledMax(inp, base, scale, lid, step, visible);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] = TornadoMath.max(partial[lid], partial[lid + s]);
            }
        }
        ctx.localBarrier();
        float max = partial[0];
        ctx.localBarrier(); // all have read partial[0] before it is reused
        partial[lid] = expSum(inp, base, scale, max, lid, step, visible);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        normalize(out, inp, base, scale, max, 1f / partial[0], lid, step, visible, T);
    }

    /** Given the forward's output y (out) and dy (dout), adds to dinp. */
    public static void softmaxBackward(KernelContext ctx, FloatArray dinp, FloatArray dout, FloatArray out, float scale, int T, int causal) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int base = row * T;
        int visible = visibleColumns(row, T, causal);
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = dot(out, dout, base, lid, step, visible);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        backwardInput(dinp, dout, out, base, scale, partial[0], lid, step, visible);
    }

    /** Columns [0, visible) of the row take part; the rest are masked. */
    static int visibleColumns(int row, int T, int causal) {
        return causal != 0 ? row % T + 1 : T;
    }

    static float scaledMax(FloatArray x, int base, float scale, int from, int step, int n) {
        float m = LOWEST;
        for (int j = from; j < n; j += step) {
            m = TornadoMath.max(m, scale * x.get(base + j));
        }
        return m;
    }

    static float expSum(FloatArray x, int base, float scale, float max, int from, int step, int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            s += TornadoMath.exp(scale * x.get(base + j) - max);
        }
        return s;
    }

    static void normalize(FloatArray y, FloatArray x, int base, float scale, float max, float inverseSum, int from, int step, int visible,
            int T) {
        for (int j = from; j < T; j += step) {
            float e = 0f;
            if (j < visible) {
                e = TornadoMath.exp(scale * x.get(base + j) - max) * inverseSum;
            }
            y.set(base + j, e);
        }
    }

    static float dot(FloatArray y, FloatArray dy, int base, int from, int step, int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            s += y.get(base + j) * dy.get(base + j);
        }
        return s;
    }

    static void backwardInput(FloatArray dx, FloatArray dy, FloatArray y, int base, float scale, float yDotDy, int from, int step, int n) {
        for (int j = from; j < n; j += step) {
            int i = base + j;
            dx.set(i, dx.get(i) + scale * y.get(i) * (dy.get(i) - yDotDy));
        }
    }
}
