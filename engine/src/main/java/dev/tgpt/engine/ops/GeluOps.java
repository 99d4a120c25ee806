package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Gelu;
import dev.tgpt.kernels.GeluVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Gelu} over n values. */
public final class GeluOps {

    private GeluOps() {
    }

    public static Launch forward(FloatArray out, FloatArray inp, int n) {
        return Launch.parallel("geluForward", (g, id) -> g.task(id, Gelu::geluForward, out, inp, n),
                jvm -> jvm.parallelRange(n, (from, to) -> GeluVector.forward(out, inp, from, to)));
    }

    /** Adds to dinp. */
    public static Launch backward(FloatArray dinp, FloatArray dout, FloatArray inp, int n) {
        return Launch.parallel("geluBackward", (g, id) -> g.task(id, Gelu::geluBackward, dinp, dout, inp, n),
                jvm -> jvm.parallelRange(n, (from, to) -> GeluVector.backward(dinp, dout, inp, from, to)));
    }
}
