package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.Fixtures;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.LayerNormCheck;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.kernels.LayerNormReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class LayerNormTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** The reference backward against central differences of the reference forward (double: agreement to ~1e-8). */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int N = 3;
        int C = 5;
        double[] x = FiniteDifferences.random(r, N * C);
        double[] w = FiniteDifferences.random(r, C);
        double[] b = FiniteDifferences.random(r, C);
        double[] dy = FiniteDifferences.random(r, N * C);
        double[] dx = new double[N * C];
        double[] dw = new double[C];
        double[] db = new double[C];
        LayerNormReference.backward(dy, x, w, dx, dw, db, N, C);
        double[] m = new double[N];
        double[] s = new double[N];
        assertTrue(FiniteDifferences.relativeError(dx,
                FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, LayerNormReference.forward(v, w, b, m, s, N, C)), 1e-5)) < 1e-7);
        assertTrue(FiniteDifferences.relativeError(dw,
                FiniteDifferences.gradient(w, v -> FiniteDifferences.dot(dy, LayerNormReference.forward(x, v, b, m, s, N, C)), 1e-5)) < 1e-7);
        assertTrue(FiniteDifferences.relativeError(db,
                FiniteDifferences.gradient(b, v -> FiniteDifferences.dot(dy, LayerNormReference.forward(x, w, v, m, s, N, C)), 1e-5)) < 1e-7);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new LayerNormCheck().run(backend)) {
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /** PyTorch's F.layer_norm and its autograd (float64, rounded to float32): the kernels agree to float32 precision. */
    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchPyTorch(Backend backend) {
        try (Safetensors f = Fixtures.open("layernorm")) {
            int N = Fixtures.meta(f, "N");
            int C = Fixtures.meta(f, "C");
            FloatArray x = f.floats("x");
            FloatArray w = f.floats("w");
            FloatArray b = f.floats("b");
            FloatArray y = new FloatArray(N * C);
            FloatArray mean = new FloatArray(N);
            FloatArray rstd = new FloatArray(N);
            Checks.run(backend, java.util.List.of(LayerNormOps.forward(y, mean, rstd, x, w, b, N, C)), new Object[] { x, w, b },
                    new Object[] { y, mean, rstd });
            assertTrue(Checks.error(y, Checks.toDouble(f.floats("y"))) < 1e-5);

            FloatArray dx = new FloatArray(N * C);
            FloatArray dw = new FloatArray(C);
            FloatArray db = new FloatArray(C);
            FloatArray dy = f.floats("dy");
            Checks.run(backend, LayerNormOps.backward(dx, dw, db, dy, x, w, mean, rstd, N, C),
                    new Object[] { dx, dw, db, dy, x, w, mean, rstd }, new Object[] { dx, dw, db });
            assertTrue(Checks.error(dx, Checks.toDouble(f.floats("dx"))) < 1e-4);
            assertTrue(Checks.error(dw, Checks.toDouble(f.floats("dw"))) < 1e-5);
            assertTrue(Checks.error(db, Checks.toDouble(f.floats("db"))) < 1e-5);
        }
    }

    /**
     * The JVM backend sums dw and db by fixed chunks of rows, so it gives the same bits on any number of threads (exact
     * resume relies on it). 203 rows: more than the chunks and not a multiple of their number; 771 columns: not a whole
     * number of vectors. The chunked sums also agree with the reference.
     */
    @Test
    void jvmBackendGivesTheSameBitsOnAnyNumberOfThreads() {
        int N = 203;
        int C = 771;
        float[][] one = forwardBackward(new JvmBackend(1), N, C);
        for (int threads : new int[] { 2, 3 }) {
            float[][] more = forwardBackward(new JvmBackend(threads), N, C);
            for (int i = 0; i < one.length; i++) {
                assertArrayEquals(one[i], more[i], threads + " threads, output " + i);
            }
        }
        Random r = new Random(11);
        double[] x = Checks.toDouble(Checks.random(r, N * C, 2f));
        double[] w = Checks.toDouble(Checks.random(r, C, 1f));
        double[] dy = Checks.toDouble(Checks.random(r, N * C, 1f));
        double[] dx = new double[N * C];
        double[] dw = new double[C];
        double[] db = new double[C];
        LayerNormReference.backward(dy, x, w, dx, dw, db, N, C);
        assertTrue(Checks.error(FloatArray.fromArray(one[3]), dx) < 1e-4);
        assertTrue(Checks.error(FloatArray.fromArray(one[4]), dw) < 1e-4);
        assertTrue(Checks.error(FloatArray.fromArray(one[5]), db) < 1e-4);
    }

    /** y, mean, rstd, dx, dw, db from zero gradients, for inputs drawn from a fixed seed. */
    private static float[][] forwardBackward(Backend backend, int N, int C) {
        Random r = new Random(11);
        FloatArray x = Checks.random(r, N * C, 2f);
        FloatArray w = Checks.random(r, C, 1f);
        FloatArray dy = Checks.random(r, N * C, 1f);
        FloatArray b = new FloatArray(C);
        FloatArray y = new FloatArray(N * C);
        FloatArray mean = new FloatArray(N);
        FloatArray rstd = new FloatArray(N);
        FloatArray dx = new FloatArray(N * C);
        FloatArray dw = new FloatArray(C);
        FloatArray db = new FloatArray(C);
        Checks.run(backend, List.of(LayerNormOps.forward(y, mean, rstd, x, w, b, N, C)), new Object[] { x, w, b },
                new Object[] { y, mean, rstd });
        Checks.run(backend, LayerNormOps.backward(dx, dw, db, dy, x, w, mean, rstd, N, C),
                new Object[] { dx, dw, db, dy, x, w, mean, rstd }, new Object[] { dx, dw, db });
        return new float[][] { y.toHeapArray(), mean.toHeapArray(), rstd.toHeapArray(), dx.toHeapArray(), dw.toHeapArray(),
                db.toHeapArray() };
    }


    /** w, b, dw and db as views of a slab: the same bits as plain arrays, nothing else in the slab touched. */
    @ParameterizedTest
    @MethodSource("backends")
    void parametersInASlabGiveTheSameBits(Backend backend) {
        Random r = new Random(17);
        int N = 3;
        int C = 45;
        FloatArray[] params = { Checks.random(r, C, 1f), Checks.random(r, C, 1f), Checks.random(r, C, 1f), Checks.random(r, C, 1f) };
        FloatArray[] others = { Checks.random(r, N * C, 2f), new FloatArray(N * C), new FloatArray(N), new FloatArray(N),
                Checks.random(r, N * C, 1f), Checks.random(r, N * C, 1f) };
        SlabRuns.assertSameInSlab(backend, params, others, new Object[0], (p, o) -> {
            List<Launch> launches = new ArrayList<>(List.of(LayerNormOps.forward(o[1], o[2], o[3], o[0], p[0], p[1], N, C)));
            launches.addAll(LayerNormOps.backward(o[5], p[2], p[3], o[4], o[0], p[0], o[2], o[3], N, C));
            return launches;
        });
    }
}
