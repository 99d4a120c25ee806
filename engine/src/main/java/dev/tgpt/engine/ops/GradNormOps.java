package dev.tgpt.engine.ops;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.GradNorm;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link GradNorm}: the global norm of several gradient buffers and the clipping factor that
 * {@link AdamWOps} reads, all on the device.
 */
public final class GradNormOps {

    private GradNormOps() {
    }

    /** The size of the partials array that {@link #norm} needs for these buffers. */
    public static int partials(FloatArray... grads) {
        int count = 0;
        for (FloatArray g : grads) {
            count += GradNorm.groups(g.getSize());
        }
        return count;
    }

    /**
     * norm[0] = √(Σ g²) over all grads and scale[0] = min(1, maxNorm / (norm + 1e-6)); norm and scale are
     * FloatArray[1], partials a FloatArray of {@link #partials}(grads) that may live on the device only.
     */
    public static List<Launch> norm(FloatArray norm, FloatArray scale, FloatArray partials, float maxNorm, FloatArray... grads) {
        List<Launch> launches = sumsOfSquares(partials, grads);
        launches.add(finish(norm, scale, partials, partials(grads), maxNorm));
        return launches;
    }

    /**
     * The first phase alone: partials[0..{@link #partials}(grads)) receive the sums of squares of the grads' chunks.
     * Data parallelism sums them over the ranks before {@link #finish} (ZeRO-1: each rank has a shard of the gradients).
     */
    public static List<Launch> sumsOfSquares(FloatArray partials, FloatArray... grads) {
        int count = partials(grads);
        if (partials.getSize() < count) {
            throw new IllegalArgumentException("partials holds " + partials.getSize() + " values; these gradients need " + count);
        }
        List<Launch> launches = new ArrayList<>();
        int first = 0;
        for (FloatArray grad : grads) {
            int n = grad.getSize();
            int groups = GradNorm.groups(n);
            int chunk = GradNorm.chunk(n);
            int slot = first;
            FloatArray base = Slab.baseOf(grad);
            int off = Slab.offsetOf(grad);
            launches.add(Launch.groups("gradNormPartials", groups, GradNorm.GROUP,
                    (g, id, ctx) -> g.task(id, GradNorm::gradNormPartials, ctx, partials, base, off, slot, chunk, n),
                    jvm -> jvm.parallelFor(groups, group -> GradNorm.partialOfChunk(partials, grad, slot, chunk, n, group))));
            first += groups;
        }
        return launches;
    }

    /** The second phase: norm and scale from the sum of partials[0..count). */
    public static Launch finish(FloatArray norm, FloatArray scale, FloatArray partials, int count, float maxNorm) {
        return Launch.groups("gradNormFinish", 1, GradNorm.GROUP,
                (g, id, ctx) -> g.task(id, GradNorm::gradNormFinish, ctx, norm, scale, partials, count, maxNorm),
                jvm -> GradNorm.finishPartials(norm, scale, partials, count, maxNorm));
    }
}
