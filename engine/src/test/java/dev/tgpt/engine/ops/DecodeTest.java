package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.DecodeCheck;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class DecodeTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /** KV-cache decoding, position by position, equals full (and banded) causal attention. */
    @ParameterizedTest
    @MethodSource("backends")
    void decodingOnePositionAtATimeMatchesFullAttention(Backend backend) {
        for (CheckResult result : new DecodeCheck().run(backend)) {
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }


    /** wte and wpe as views of a slab: the same bits as plain arrays, nothing else in the slab touched. */
    @ParameterizedTest
    @MethodSource("backends")
    void embeddingOfParametersInASlabGivesTheSameBits(Backend backend) {
        Random r = new Random(17);
        int B = 3;
        int C = 5;
        int V = 7;
        int maxT = 4;
        IntArray tokens = IntArray.fromArray(new int[] { 6, 0, 2 });
        IntArray pos = IntArray.fromArray(new int[] { 2, 0, 3 });
        FloatArray[] params = { Checks.random(r, V * C, 1f), Checks.random(r, maxT * C, 1f) };
        SlabRuns.assertSameInSlab(backend, params, new FloatArray[] { new FloatArray(B * C) }, new Object[] { tokens, pos },
                (p, o) -> List.of(DecodeOps.embedding(o[0], tokens, pos, p[0], p[1], B, C, V)));
    }
}
