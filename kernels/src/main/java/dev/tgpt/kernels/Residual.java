package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Residual connection, element-wise over n values.
 *
 * <pre>
 * forward:  out = a + b
 * backward: da += dout;  db += dout
 * </pre>
 *
 * The JVM backend runs their twin, {@link ResidualVector}.
 */
public final class Residual {

    private Residual() {
    }

    public static void residualForward(FloatArray out, FloatArray a, FloatArray b, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            forwardAt(out, a, b, i);
        }
    }

    public static void residualBackward(FloatArray da, FloatArray db, FloatArray dout, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            backwardAt(da, db, dout, i);
        }
    }

    public static void forwardAt(FloatArray out, FloatArray a, FloatArray b, int i) {
        out.set(i, a.get(i) + b.get(i));
    }

    public static void backwardAt(FloatArray da, FloatArray db, FloatArray dout, int i) {
        float d = dout.get(i);
        da.set(i, da.get(i) + d);
        db.set(i, db.get(i) + d);
    }
}
