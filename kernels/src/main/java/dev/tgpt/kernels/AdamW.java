package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * AdamW (Loshchilov &amp; Hutter), as torch.optim.AdamW computes it, element-wise over n parameters.
 *
 * <pre>
 * g = grad·clip                                       (clip[0] from GradNorm, 1 when not clipping)
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
 * m̂ = m/(1 − β1^t);        v̂ = v/(1 − β2^t)
 * θ −= lr·(m̂/(√v̂ + ε) + λ·θ)                          (decoupled weight decay, on the θ before this step)
 * </pre>
 *
 * What changes per step comes from the device array {@code hyper}, filled by the host each step, never from scalars
 * (which TornadoVM compiles into the kernel). Its layout: [{@link #LR} lr, {@link #BETA1} β1, {@link #BETA2} β2,
 * {@link #EPS} ε, {@link #WEIGHT_DECAY} λ, {@link #CORRECTION1} 1/(1 − β1^t), {@link #CORRECTION2} 1/(1 − β2^t)],
 * {@link #HYPER_SIZE} floats. A tensor without weight decay gets its own hyper array with λ = 0. The JVM backend
 * calls the same per-element helper. params, grads, m and v may be views of slabs: each comes as the slab and the
 * view's offset in it (a plain array and 0 otherwise).
 */
public final class AdamW {

    public static final int LR = 0;
    public static final int BETA1 = 1;
    public static final int BETA2 = 2;
    public static final int EPS = 3;
    public static final int WEIGHT_DECAY = 4;
    public static final int CORRECTION1 = 5;
    public static final int CORRECTION2 = 6;
    public static final int HYPER_SIZE = 7;

    private AdamW() {
    }

    public static void adamWUpdate(FloatArray params, int paramsOff, FloatArray grads, int gradsOff, FloatArray m, int mOff, FloatArray v,
            int vOff, FloatArray hyper, FloatArray clip, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            updateAt(params, paramsOff, grads, gradsOff, m, mOff, v, vOff, hyper, clip, i);
        }
    }

    public static void updateAt(FloatArray params, int paramsOff, FloatArray grads, int gradsOff, FloatArray m, int mOff, FloatArray v,
            int vOff, FloatArray hyper, FloatArray clip, int i) {
        float beta1 = hyper.get(BETA1);
        float beta2 = hyper.get(BETA2);
        float g = grads.get(gradsOff + i) * clip.get(0);
        float mi = beta1 * m.get(mOff + i) + (1f - beta1) * g;
        float vi = beta2 * v.get(vOff + i) + (1f - beta2) * g * g;
        m.set(mOff + i, mi);
        v.set(vOff + i, vi);
        float mHat = mi * hyper.get(CORRECTION1);
        float vHat = vi * hyper.get(CORRECTION2);
        float p = params.get(paramsOff + i);
        params.set(paramsOff + i, p - hyper.get(LR) * (mHat / (TornadoMath.sqrt(vHat) + hyper.get(EPS)) + hyper.get(WEIGHT_DECAY) * p));
    }
}
