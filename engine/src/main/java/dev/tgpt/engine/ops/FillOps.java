package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.Fill;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Fill}. */
public final class FillOps {

    private FillOps() {
    }

    public static Launch fill(FloatArray a, float value) {
        int n = a.getSize();
        FloatArray base = Slab.baseOf(a);
        int off = Slab.offsetOf(a);
        return Launch.parallel("fill", (g, id) -> g.task(id, Fill::fill, base, off, n, value), jvm -> jvm.parallelRange(n, (from, to) -> {
            if (value == 0f) {
                a.getSegment().asSlice(4L * from, 4L * (to - from)).fill((byte) 0); // a memset
            } else {
                for (int i = from; i < to; i++) {
                    a.set(i, value);
                }
            }
        }));
    }
}
