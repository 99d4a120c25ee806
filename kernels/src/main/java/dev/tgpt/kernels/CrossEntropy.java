package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Softmax and cross-entropy fused, over rows of V logits (V = 50,257 for GPT-2; any V), one target id per row.
 *
 * <pre>
 * lse_n = m + log Σ_j exp(x_nj − m), m = max_j x_nj           (kept for backward)
 * forward:  loss_n = lse_n − x_n,target
 * backward: dx_nj += (exp(x_nj − lse_n) − [j = target])·dloss_n
 * </pre>
 *
 * A target outside [0, V) (the ignore value is any negative id) marks a row that does not count: loss 0, no gradient.
 * The engine fills dloss, e.g. with 1/#counted rows for a mean loss. Forward runs one work-group per row (max and sum
 * reduced in local memory); backward is element-wise. The JVM backend runs {@link CrossEntropyVector}.
 */
public final class CrossEntropy {

    /** Work-items per row on a device; a power of two for the tree reduction. */
    public static final int GROUP = 256;

    private CrossEntropy() {
    }

    public static void crossEntropyForward(KernelContext ctx, FloatArray losses, FloatArray logSumExp, FloatArray logits, IntArray targets,
            int V) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int base = row * V;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = Softmax.scaledMax(logits, base, 1f, lid, step, V);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] = TornadoMath.max(partial[lid], partial[lid + s]);
            }
        }
        ctx.localBarrier();
        float max = partial[0];
        ctx.localBarrier(); // all have read partial[0] before it is reused
        partial[lid] = Softmax.expSum(logits, base, 1f, max, lid, step, V);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            finishRow(losses, logSumExp, logits, targets, row, base, max, partial[0], V);
        }
    }

    /** Adds to dlogits, one element per work-item. */
    public static void crossEntropyBackward(FloatArray dlogits, FloatArray logits, FloatArray logSumExp, IntArray targets, FloatArray dloss,
            int N, int V) {
        for (@Parallel int i = 0; i < N * V; i++) {
            backwardAt(dlogits, logits, logSumExp, targets, dloss, i, V);
        }
    }

    /** dlogits at flat index i of [N, V]. */
    public static void backwardAt(FloatArray dlogits, FloatArray logits, FloatArray logSumExp, IntArray targets, FloatArray dloss, int i,
            int V) {
        int row = i / V;
        int target = targets.get(row);
        if (counts(target, V)) {
            float p = TornadoMath.exp(logits.get(i) - logSumExp.get(row));
            float onehot = 0f;
            if (i - row * V == target) {
                onehot = 1f;
            }
            dlogits.set(i, dlogits.get(i) + (p - onehot) * dloss.get(row));
        }
    }

    static boolean counts(int target, int V) {
        return target >= 0 && target < V;
    }

    static void finishRow(FloatArray losses, FloatArray logSumExp, FloatArray logits, IntArray targets, int row, int base, float max,
            float sum, int V) {
        float lse = max + TornadoMath.log(sum);
        int target = targets.get(row);
        float loss = 0f;
        if (counts(target, V)) {
            loss = lse - logits.get(base + target);
        }
        losses.set(row, loss);
        logSumExp.set(row, lse);
    }
}
