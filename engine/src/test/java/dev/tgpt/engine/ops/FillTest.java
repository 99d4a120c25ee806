package dev.tgpt.engine.ops;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.Checks;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class FillTest {

    static java.util.stream.Stream<Backend> backends() {
        return TestBackends.all();
    }

    /** Filling views of a slab (gradients zeroed in place) fills those views only: the same bits as plain arrays. */
    @ParameterizedTest
    @MethodSource("backends")
    void viewsOfASlabAreFilledAlone(Backend backend) {
        Random r = new Random(17);
        FloatArray[] params = { Checks.random(r, 33, 1f), Checks.random(r, 5, 1f) };
        SlabRuns.assertSameInSlab(backend, params, new FloatArray[0], new Object[0],
                (p, o) -> List.of(FillOps.fill(p[0], 0f), FillOps.fill(p[1], 0.5f)));
    }
}
