package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.tgpt.engine.check.MatmulCheck;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.kernels.MatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class MatmulTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** The reference backward against central differences of the reference forward (double: agreement to ~1e-8). */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int N = 3;
        int C = 4;
        int OC = 5;
        double[] x = FiniteDifferences.random(r, N * C);
        double[] w = FiniteDifferences.random(r, OC * C);
        double[] b = FiniteDifferences.random(r, OC);
        double[] dy = FiniteDifferences.random(r, N * OC);
        double[] dx = new double[N * C];
        double[] dw = new double[OC * C];
        double[] db = new double[OC];
        MatmulReference.backward(dy, x, w, dx, dw, db, N, C, OC);
        assertTrue(FiniteDifferences.relativeError(dx,
                FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, MatmulReference.forward(v, w, b, N, C, OC)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(dw,
                FiniteDifferences.gradient(w, v -> FiniteDifferences.dot(dy, MatmulReference.forward(x, v, b, N, C, OC)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(db,
                FiniteDifferences.gradient(b, v -> FiniteDifferences.dot(dy, MatmulReference.forward(x, w, v, N, C, OC)), 1e-5)) < 1e-8);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new MatmulCheck().run(backend)) {
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /** PyTorch's F.linear and its autograd (float64, rounded to float32): the kernels agree to float32 precision. */
    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchPyTorch(Backend backend) {
        try (Safetensors f = Fixtures.open("matmul")) {
            int N = Fixtures.meta(f, "N");
            int C = Fixtures.meta(f, "C");
            int OC = Fixtures.meta(f, "OC");
            FloatArray x = f.floats("x");
            FloatArray w = f.floats("w");
            FloatArray b = f.floats("b");
            FloatArray y = new FloatArray(N * OC);
            Checks.run(backend, List.of(MatmulOps.forward(y, x, w, b, N, C, OC)), new Object[] { x, w, b }, new Object[] { y });
            assertTrue(Checks.error(y, Checks.toDouble(f.floats("y"))) < 1e-5);

            FloatArray dy = f.floats("dy");
            FloatArray dx = new FloatArray(N * C);
            FloatArray dw = new FloatArray(OC * C);
            FloatArray db = new FloatArray(OC);
            Checks.run(backend, MatmulOps.backward(dx, dw, db, dy, x, w, N, C, OC), new Object[] { dx, dw, db, dy, x, w },
                    new Object[] { dx, dw, db });
            assertTrue(Checks.error(dx, Checks.toDouble(f.floats("dx"))) < 1e-5);
            assertTrue(Checks.error(dw, Checks.toDouble(f.floats("dw"))) < 1e-5);
            assertTrue(Checks.error(db, Checks.toDouble(f.floats("db"))) < 1e-5);
        }
    }

    /**
     * The JVM kernel at shapes that reach its blocking's edges: several k-blocks, row blocks and column slabs, B
     * packed in two column groups (K·OC over 2²² floats), units of fewer rows than MC, single rows; the
     * matrix-vector path of up to 16 rows (one row, several, an odd number of columns, a k tail, and C = 1, where the
     * input's gradient takes it too); and its bias gradient bit-equal to the device kernel's per-column sum. On one
     * thread (a call in one unit) and on two (units shared out): the same bits, since each output has one order.
     */
    @Test
    void vectorKernelAtBlockingEdges() {
        int[][] shapes = { { 17, 300, 14_000 }, { 200, 513, 257 }, { 600, 300, 257 }, { 1, 17, 5 }, { 65, 8, 33 }, { 1, 300, 14_000 },
                { 9, 300, 131 }, { 16, 768, 130 }, { 3, 1, 7 } };
        List<float[]> one = blockingEdges(new JvmBackend(1), shapes);
        List<float[]> two = blockingEdges(new JvmBackend(2), shapes);
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i), two.get(i), "output " + i + " on 1 and 2 threads");
        }
    }

    /** Each shape's forward and backward against the reference; returns their outputs. */
    private static List<float[]> blockingEdges(JvmBackend jvm, int[][] shapes) {
        Random r = new Random(3);
        List<float[]> outputs = new ArrayList<>();
        for (int[] s : shapes) {
            int N = s[0];
            int C = s[1];
            int OC = s[2];
            FloatArray x = Checks.random(r, N * C, 1f);
            FloatArray w = Checks.random(r, OC * C, 1f);
            FloatArray b = Checks.random(r, OC, 1f);
            FloatArray y = Checks.random(r, N * OC, 1f);
            Checks.run(jvm, List.of(MatmulOps.forward(y, x, w, b, N, C, OC)), new Object[] { x, w, b }, new Object[] { y });
            assertTrue(Checks.error(y, MatmulReference.forward(Checks.toDouble(x), Checks.toDouble(w), Checks.toDouble(b), N, C, OC)) < 1e-5,
                    () -> "forward " + N + "x" + C + "x" + OC);
            FloatArray dy = Checks.random(r, N * OC, 1f);
            FloatArray dx = Checks.random(r, N * C, 1f);
            FloatArray dw = Checks.random(r, OC * C, 1f);
            FloatArray db = Checks.random(r, OC, 1f);
            double[] wantDx = Checks.toDouble(dx);
            double[] wantDw = Checks.toDouble(dw);
            double[] wantDb = Checks.toDouble(db);
            float[] device = new float[OC];
            for (int o = 0; o < OC; o++) {
                float sum = 0f;
                for (int n = 0; n < N; n++) {
                    sum += dy.get(n * OC + o);
                }
                device[o] = db.get(o) + sum;
            }
            Checks.run(jvm, MatmulOps.backward(dx, dw, db, dy, x, w, N, C, OC), new Object[] { dx, dw, db, dy, x, w },
                    new Object[] { dx, dw, db });
            MatmulReference.backward(Checks.toDouble(dy), Checks.toDouble(x), Checks.toDouble(w), wantDx, wantDw, wantDb, N, C, OC);
            assertTrue(Checks.worst(Checks.error(dx, wantDx), Checks.error(dw, wantDw)) < 1e-5, () -> "backward " + N + "x" + C + "x" + OC);
            for (int o = 0; o < OC; o++) {
                assertEquals(device[o], db.get(o), "dbias bits at column " + o);
            }
            for (FloatArray a : List.of(y, dx, dw)) {
                outputs.add(a.toHeapArray());
            }
        }
        return outputs;
    }

    /** Weight, bias and their gradients as views of a slab: the same bits as plain arrays, nothing else in the slab touched. */
    @ParameterizedTest
    @MethodSource("backends")
    void parametersInASlabGiveTheSameBits(Backend backend) {
        Random r = new Random(17);
        int N = 5;
        int C = 7;
        int OC = 9;
        FloatArray[] params = { Checks.random(r, OC * C, 1f), Checks.random(r, OC, 1f), Checks.random(r, OC * C, 1f), Checks.random(r, OC, 1f) };
        FloatArray[] others = { Checks.random(r, N * C, 1f), new FloatArray(N * OC), Checks.random(r, N * OC, 1f), Checks.random(r, N * C, 1f) };
        SlabRuns.assertSameInSlab(backend, params, others, new Object[0], (p, o) -> {
            List<Launch> launches = new ArrayList<>(List.of(MatmulOps.forward(o[1], o[0], p[0], p[1], N, C, OC)));
            launches.addAll(MatmulOps.backward(o[3], p[2], p[3], o[2], o[0], p[0], N, C, OC));
            return launches;
        });
    }

    /**
     * One input row against many columns (a decoding step) is summed four columns at a time where K allows; each
     * output must still be the same bits as that column computed alone (one order per output, whatever its neighbours).
     */
    @Test
    void oneRowGivesEachColumnTheBitsItGetsAlone() {
        JvmBackend jvm = new JvmBackend();
        Random r = new Random(5);
        int C = 768;
        int OC = 70; // a task of 64 columns, then one of 6: four at a time, then two
        FloatArray x = Checks.random(r, C, 1f);
        FloatArray w = Checks.random(r, OC * C, 1f);
        FloatArray b = Checks.random(r, OC, 1f);
        FloatArray y = new FloatArray(OC);
        Checks.run(jvm, List.of(MatmulOps.forward(y, x, w, b, 1, C, OC)), new Object[] { x, w, b }, new Object[] { y });
        for (int o = 0; o < OC; o++) {
            FloatArray row = new FloatArray(C);
            for (int k = 0; k < C; k++) {
                row.set(k, w.get(o * C + k));
            }
            FloatArray bias = new FloatArray(1);
            bias.set(0, b.get(o));
            FloatArray alone = new FloatArray(1);
            Checks.run(jvm, List.of(MatmulOps.forward(alone, x, row, bias, 1, C, 1)), new Object[] { x, row, bias }, new Object[] { alone });
            assertEquals(Float.floatToRawIntBits(alone.get(0)), Float.floatToRawIntBits(y.get(o)), "column " + o);
        }
    }
}
