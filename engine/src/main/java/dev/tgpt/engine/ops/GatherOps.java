package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Gather;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** Launches of {@link Gather}: B rows of C picked by {@code rows} (a device array: it changes every batch). */
public final class GatherOps {

    private GatherOps() {
    }

    public static Launch forward(FloatArray out, FloatArray inp, IntArray rows, int B, int C) {
        return Launch.parallel("gatherForward", (g, id) -> g.task(id, Gather::gatherForward, out, inp, rows, B, C),
                jvm -> jvm.parallelRange(B * C, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Gather.forwardAt(out, inp, rows, C, i);
                    }
                }));
    }

    /** Adds into dinp; the rows must be distinct. */
    public static Launch backward(FloatArray dinp, FloatArray dout, IntArray rows, int B, int C) {
        return Launch.parallel("gatherBackward", (g, id) -> g.task(id, Gather::gatherBackward, dinp, dout, rows, B, C),
                jvm -> jvm.parallelRange(B * C, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Gather.backwardAt(dinp, dout, rows, C, i);
                    }
                }));
    }
}
