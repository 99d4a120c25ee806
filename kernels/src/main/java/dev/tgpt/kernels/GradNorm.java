package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Global gradient-norm clipping factor, computed on the device without a round trip to the host.
 *
 * <pre>
 * norm  = √(Σ g²) over one or more gradient buffers
 * scale = min(1, maxNorm / (norm + 1e-6))                    (the optimizer multiplies every gradient by it)
 * </pre>
 *
 * Two phases. Partials: each buffer is cut into {@link #groups} contiguous chunks of {@link #chunk} elements; one
 * work-group per chunk sums its squares (work-items stride over the chunk, then reduce in local memory) into its own
 * slot of a partials array; buffers take consecutive ranges of slots. Finish: one work-group sums the partials and
 * writes norm[0] and scale[0]. The JVM backend runs the same helpers on the same chunks, one chunk per iteration. A
 * gradient buffer may be a view of a slab: it comes as the slab and the view's offset in it (a plain array and 0
 * otherwise).
 */
public final class GradNorm {

    /** Work-items per work-group; a power of two for the tree reduction. */
    public static final int GROUP = 256;
    /** Enough work-groups to fill a large GPU; more only adds partials. */
    public static final int MAX_GROUPS = 1024;
    /** Fewer work-groups than that for a small buffer, so that each work-item gets at least this many elements. */
    static final int MIN_PER_ITEM = 16;
    public static final float EPS = 1e-6f;

    private GradNorm() {
    }

    /** Work-groups (and partials) for a buffer of n elements. */
    public static int groups(int n) {
        return Math.clamp((n + GROUP * MIN_PER_ITEM - 1) / (GROUP * MIN_PER_ITEM), 1, MAX_GROUPS);
    }

    /** Elements per work-group for a buffer of n elements. */
    public static int chunk(int n) {
        int groups = groups(n);
        return (n + groups - 1) / groups;
    }

    /** partials[first + g] = Σ g² over chunk g of grad (n elements from gradOff). */
    public static void gradNormPartials(KernelContext ctx, FloatArray partials, FloatArray grad, int gradOff, int first, int chunk, int n) {
        int group = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int from = group * chunk;
        int to = TornadoMath.min(n, from + chunk);
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = sumOfSquares(grad, gradOff, from + lid, step, to);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            partials.set(first + group, partial[0]);
        }
    }

    /** The JVM backend's partial of chunk {@code group}. */
    public static void partialOfChunk(FloatArray partials, FloatArray grad, int first, int chunk, int n, int group) {
        int from = group * chunk;
        partials.set(first + group, sumOfSquares(grad, 0, from, 1, Math.min(n, from + chunk)));
    }

    /** One work-group: norm[0] and scale[0] from the first {@code count} partials. */
    public static void gradNormFinish(KernelContext ctx, FloatArray norm, FloatArray scale, FloatArray partials, int count, float maxNorm) {
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = LayerNorm.sum(partials, 0, lid, step, count);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            finish(norm, scale, partial[0], maxNorm);
        }
    }

    /** The JVM backend's finish. */
    public static void finishPartials(FloatArray norm, FloatArray scale, FloatArray partials, int count, float maxNorm) {
        finish(norm, scale, LayerNorm.sum(partials, 0, 0, 1, count), maxNorm);
    }

    static void finish(FloatArray norm, FloatArray scale, float sumOfSquares, float maxNorm) {
        float n = TornadoMath.sqrt(sumOfSquares);
        norm.set(0, n);
        scale.set(0, TornadoMath.min(1f, maxNorm / (n + EPS)));
    }

    static float sumOfSquares(FloatArray x, int off, int from, int step, int to) {
        float s = 0f;
        for (int j = from; j < to; j += step) {
            float v = x.get(off + j);
            s += v * v;
        }
        return s;
    }
}
