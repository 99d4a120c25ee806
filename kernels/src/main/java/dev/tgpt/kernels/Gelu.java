package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GELU, tanh form (GPT-2), element-wise over n values.
 *
 * <pre>
 * u = √(2/π)·(x + 0.044715·x³)
 * forward:  y = 0.5·x·(1 + tanh u)
 * backward: dx += dy·(0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²))
 * </pre>
 *
 * The JVM backend calls the same per-element helpers.
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
        float t = TornadoMath.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x));
        out.set(i, 0.5f * x * (1f + t));
    }

    public static void backwardAt(FloatArray dinp, FloatArray dout, FloatArray inp, int i) {
        float x = inp.get(i);
        float t = TornadoMath.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x));
        float du = SQRT_2_OVER_PI * (1f + 3f * CUBIC * x * x);
        float grad = 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du;
        dinp.set(i, dinp.get(i) + dout.get(i) * grad);
    }
}
