package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GELU, tanh form (GPT-2), element-wise over n values.
 *
 * <pre>
 * u = √(2/π)·(x + 0.044715·x³),  s = ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u))
 * forward:  y = x·s
 * backward: dx += dy·(s + 2·x·s·(1 − s)·√(2/π)·(1 + 3·0.044715·x²))      (½(1 − tanh² u) = 2s(1 − s))
 * </pre>
 *
 * Written with one exp rather than tanh: the same function, and exp is fast everywhere (the JVM's tanh is not an
 * intrinsic). The JVM backend runs {@link GeluVector}, the Vector API form of the same formulas.
 */
public final class Gelu {

    /** √(2/π). */
    public static final float SQRT_2_OVER_PI = 0.7978845608f;
    public static final float CUBIC = 0.044715f;

    private Gelu() {
    }

    public static void geluForward(FloatArray out, FloatArray inp, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            forwardAt(out, inp, i);
        }
    }

    public static void geluBackward(FloatArray dinp, FloatArray dout, FloatArray inp, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            backwardAt(dinp, dout, inp, i);
        }
    }

    public static void forwardAt(FloatArray out, FloatArray inp, int i) {
        float x = inp.get(i);
        out.set(i, x * sigmoid2u(x));
    }

    public static void backwardAt(FloatArray dinp, FloatArray dout, FloatArray inp, int i) {
        float x = inp.get(i);
        float s = sigmoid2u(x);
        float du = SQRT_2_OVER_PI * (1f + 3f * CUBIC * x * x);
        dinp.set(i, dinp.get(i) + dout.get(i) * (s + 2f * x * s * (1f - s) * du));
    }

    /** σ(2u) = ½(1 + tanh u); e^(−2u) overflowing to ∞ gives 0, as it should. */
    static float sigmoid2u(float x) {
        return 1f / (1f + TornadoMath.exp(-2f * SQRT_2_OVER_PI * (x + CUBIC * x * x * x)));
    }
}
