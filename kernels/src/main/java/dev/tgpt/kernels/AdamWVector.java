package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's AdamW: {@link AdamW#updateAt}'s formula on whole vectors, the same operations in the same order
 * (no fused multiply-adds), so each element gets the very bits the per-element helper gives it. Element-wise
 * {@code FloatArray.get/set} kept bounds checks in C2's code; on the main job's small model this update was a sixth
 * of a training step at batch 4.
 */
public final class AdamWVector {

    private AdamWVector() {
    }

    /** Elements [from, to). */
    public static void update(FloatArray params, FloatArray grads, FloatArray m, FloatArray v, FloatArray hyper, FloatArray clip, int from,
            int to) {
        MemorySegment p = params.getSegment();
        MemorySegment g = grads.getSegment();
        MemorySegment ms = m.getSegment();
        MemorySegment vs = v.getSegment();
        float beta1 = hyper.get(AdamW.BETA1);
        float beta2 = hyper.get(AdamW.BETA2);
        float c1 = hyper.get(AdamW.CORRECTION1);
        float c2 = hyper.get(AdamW.CORRECTION2);
        float lr = hyper.get(AdamW.LR);
        float eps = hyper.get(AdamW.EPS);
        float wd = hyper.get(AdamW.WEIGHT_DECAY);
        float scale = clip.get(0);
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector gi = load(g, i).mul(scale);
            FloatVector mi = load(ms, i).mul(beta1).add(gi.mul(1f - beta1));
            FloatVector vi = load(vs, i).mul(beta2).add(gi.mul(1f - beta2).mul(gi));
            store(mi, ms, i);
            store(vi, vs, i);
            FloatVector pi = load(p, i);
            FloatVector step = mi.mul(c1).div(vi.mul(c2).sqrt().add(eps)).add(pi.mul(wd));
            store(pi.sub(step.mul(lr)), p, i);
        }
        for (; i < to; i++) {
            AdamW.updateAt(params, 0, grads, 0, m, 0, v, 0, hyper, clip, i);
        }
    }
}
