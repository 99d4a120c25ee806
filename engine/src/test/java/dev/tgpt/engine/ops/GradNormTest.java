package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.GradNormCheck;
import dev.tgpt.kernels.GradNorm;
import dev.tgpt.kernels.GradNormReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class GradNormTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    @Test
    void referenceScaleClipsOnlyAboveMaxNorm() {
        assertEquals(5, GradNormReference.norm(new double[] { 3 }, new double[] { 0, 4 }), 0);
        assertEquals(1, GradNormReference.scale(5, 10), 0);
        assertEquals(1 / (5 + 1e-6), GradNormReference.scale(5, 1), 1e-15);
    }

    /** The chunks of a buffer are contiguous, within the buffer, and leave nothing out. */
    @Test
    void chunksCoverEveryElementOnce() {
        for (int n : new int[] { 1, 4095, 4096, 4097, 300_001, 4 << 20, 124_439_808 }) {
            int groups = GradNorm.groups(n);
            int chunk = GradNorm.chunk(n);
            assertTrue(groups >= 1 && groups <= GradNorm.MAX_GROUPS, () -> "groups " + groups + " for " + n);
            assertTrue((long) groups * chunk >= n && (long) (groups - 1) * chunk < n, () -> groups + " chunks of " + chunk + " for " + n);
        }
    }

    @Test
    void tooFewPartialsAreRefused() {
        FloatArray g = new FloatArray(10_000);
        assertThrows(IllegalArgumentException.class,
                () -> GradNormOps.norm(new FloatArray(1), new FloatArray(1), new FloatArray(GradNormOps.partials(g) - 1), 1f, g));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new GradNormCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }


    /** Gradients as views of a slab: the same norm and scale bits as plain arrays, the slab untouched. */
    @ParameterizedTest
    @MethodSource("backends")
    void gradientsInASlabGiveTheSameBits(Backend backend) {
        java.util.Random r = new java.util.Random(17);
        FloatArray[] params = { Checks.random(r, 5000, 1f), Checks.random(r, 37, 1f) };
        FloatArray[] others = { new FloatArray(1), new FloatArray(1), new FloatArray(GradNormOps.partials(params)) };
        SlabRuns.assertSameInSlab(backend, params, others, new Object[0], (p, o) -> GradNormOps.norm(o[0], o[1], o[2], 1f, p));
    }
}
