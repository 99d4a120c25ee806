package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Residual;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Residual} over n values. */
public final class ResidualOps {

    private ResidualOps() {
    }

    public static Launch forward(FloatArray out, FloatArray a, FloatArray b, int n) {
        return Launch.parallel("residualForward", (g, id) -> g.task(id, Residual::residualForward, out, a, b, n),
                jvm -> jvm.parallelRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Residual.forwardAt(out, a, b, i);
                    }
                }));
    }

    /** Adds dout to da and to db (two different arrays). */
    public static Launch backward(FloatArray da, FloatArray db, FloatArray dout, int n) {
        return Launch.parallel("residualBackward", (g, id) -> g.task(id, Residual::residualBackward, da, db, dout, n),
                jvm -> jvm.parallelRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Residual.backwardAt(da, db, dout, i);
                    }
                }));
    }
}
