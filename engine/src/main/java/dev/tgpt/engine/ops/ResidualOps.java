package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Residual;
import dev.tgpt.kernels.ResidualVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Residual} (on the JVM backend, {@link ResidualVector}) over n values. */
public final class ResidualOps {

    private ResidualOps() {
    }

    public static Launch forward(FloatArray out, FloatArray a, FloatArray b, int n) {
        return Launch.parallel("residualForward", (g, id) -> g.task(id, Residual::residualForward, out, a, b, n),
                jvm -> jvm.parallelRange(n, (from, to) -> ResidualVector.forward(out, a, b, from, to)));
    }

    /** Adds dout to da and to db (two different arrays). */
    public static Launch backward(FloatArray da, FloatArray db, FloatArray dout, int n) {
        return Launch.parallel("residualBackward", (g, id) -> g.task(id, Residual::residualBackward, da, db, dout, n),
                jvm -> jvm.parallelRange(n, (from, to) -> ResidualVector.backward(da, db, dout, from, to)));
    }
}
