package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Gelu;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Gelu} over n values. */
public final class GeluOps {

    private GeluOps() {
    }

    public static Launch forward(FloatArray out, FloatArray inp, int n) {
        return Launch.parallel("geluForward", (g, id) -> g.task(id, Gelu::geluForward, out, inp, n),
                jvm -> jvm.parallelFor(n, i -> Gelu.forwardAt(out, inp, i)));
    }

    /** Adds to dinp. */
    public static Launch backward(FloatArray dinp, FloatArray dout, FloatArray inp, int n) {
        return Launch.parallel("geluBackward", (g, id) -> g.task(id, Gelu::geluBackward, dinp, dout, inp, n),
                jvm -> jvm.parallelFor(n, i -> Gelu.backwardAt(dinp, dout, inp, i)));
    }
}
