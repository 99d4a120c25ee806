package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Fill;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Fill}. */
public final class FillOps {

    private FillOps() {
    }

    public static Launch fill(FloatArray a, float value) {
        return Launch.parallel("fill", (g, id) -> g.task(id, Fill::fill, a, value), jvm -> jvm.parallelFor(a.getSize(), i -> a.set(i, value)));
    }
}
