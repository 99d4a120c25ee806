package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.AdamW;
import dev.tgpt.kernels.AdamWVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link AdamW}, and the host side of its per-step hyperparameters. */
public final class AdamWOps {

    private AdamWOps() {
    }

    /**
     * One step over n parameters: updates params, m and v (both zero before step 1). hyper is a FloatArray of
     * {@link AdamW#HYPER_SIZE} filled by {@link #hyperparameters} (a program input), clip a FloatArray[1] (from
     * {@link GradNormOps}, or holding 1).
     */
    public static Launch update(FloatArray params, FloatArray grads, FloatArray m, FloatArray v, FloatArray hyper, FloatArray clip, int n) {
        FloatArray p = Slab.baseOf(params);
        int pOff = Slab.offsetOf(params);
        FloatArray gr = Slab.baseOf(grads);
        int grOff = Slab.offsetOf(grads);
        FloatArray mb = Slab.baseOf(m);
        int mOff = Slab.offsetOf(m);
        FloatArray vb = Slab.baseOf(v);
        int vOff = Slab.offsetOf(v);
        return Launch.parallel("adamWUpdate",
                (g, id) -> g.task(id, AdamW::adamWUpdate, p, pOff, gr, grOff, mb, mOff, vb, vOff, hyper, clip, n),
                jvm -> jvm.parallelRange(n, (from, to) -> AdamWVector.update(params, grads, m, v, hyper, clip, from, to)));
    }

    /** Fills hyper for step t (1-based); the bias corrections are computed in double. */
    public static void hyperparameters(FloatArray hyper, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        if (t < 1) {
            throw new IllegalArgumentException("AdamW steps count from 1, not " + t);
        }
        hyper.set(AdamW.LR, lr);
        hyper.set(AdamW.BETA1, beta1);
        hyper.set(AdamW.BETA2, beta2);
        hyper.set(AdamW.EPS, eps);
        hyper.set(AdamW.WEIGHT_DECAY, weightDecay);
        hyper.set(AdamW.CORRECTION1, (float) (1 / (1 - Math.pow(beta1, t))));
        hyper.set(AdamW.CORRECTION2, (float) (1 / (1 - Math.pow(beta2, t))));
    }
}
