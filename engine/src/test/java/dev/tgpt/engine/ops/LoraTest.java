package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.Fixtures;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.LoraCheck;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.kernels.Lora;
import dev.tgpt.kernels.LoraReference;
import dev.tgpt.kernels.LoraVector;
import dev.tgpt.kernels.MatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class LoraTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * The reference backward against central differences of Σ dy·y for the whole layer (frozen W and b included). y is
     * linear in each of x, A and B, so the differences are exact but for rounding, ~1e-16/h in double: allow 1e-8.
     */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(5);
        int N = 3, C = 4, OC = 5, r = 2;
        double s = 1.5;
        double[] x = FiniteDifferences.random(rnd, N * C);
        double[] w = FiniteDifferences.random(rnd, OC * C);
        double[] b = FiniteDifferences.random(rnd, OC);
        double[] a = FiniteDifferences.random(rnd, r * C);
        double[] bm = FiniteDifferences.random(rnd, OC * r);
        double[] dy = FiniteDifferences.random(rnd, N * OC);
        double[] dx = new double[N * C];
        double[] da = new double[r * C];
        double[] db = new double[OC * r];
        LoraReference.backward(dy, x, w, a, bm, s, dx, da, db, N, C, OC, r);
        assertTrue(FiniteDifferences.relativeError(dx,
                FiniteDifferences.gradient(x, v -> FiniteDifferences.dot(dy, LoraReference.forward(v, w, b, a, bm, s, N, C, OC, r)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(da,
                FiniteDifferences.gradient(a, v -> FiniteDifferences.dot(dy, LoraReference.forward(x, w, b, v, bm, s, N, C, OC, r)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(db,
                FiniteDifferences.gradient(bm, v -> FiniteDifferences.dot(dy, LoraReference.forward(x, w, b, a, v, s, N, C, OC, r)), 1e-5)) < 1e-8);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new LoraCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /**
     * Matmul with few outputs, as LoRA's A side has (OC = r): x·Aᵀ, dh·A and dhᵀ·x at r = 1, 4, 8, 16, N and C not
     * multiples of any tile; N = 5 takes the JVM kernel's matrix-vector path, N = 33 its packed one. Tolerance as
     * {@link dev.tgpt.engine.check.MatmulCheck}'s, 1e-5; gradients start non-zero.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void matmulWithFewOutputs(Backend backend) {
        Random rnd = new Random(11);
        for (int r : new int[] { 1, 4, 8, 16 }) {
            for (int N : new int[] { 5, 33 }) {
                int C = 40;
                String shape = backend.info().id() + " N=" + N + " C=" + C + " OC=" + r;
                FloatArray x = Checks.random(rnd, N * C, 1f);
                FloatArray a = Checks.random(rnd, r * C, 1f);
                FloatArray h = Checks.random(rnd, N * r, 1f);
                Checks.run(backend, List.of(MatmulOps.forward(h, x, a, null, N, C, r)), new Object[] { x, a, h }, new Object[] { h });
                double e = Checks.error(h, MatmulReference.forward(Checks.toDouble(x), Checks.toDouble(a), null, N, C, r));
                assertTrue(e < 1e-5, () -> "forward " + shape + ": " + e);
                FloatArray dh = Checks.random(rnd, N * r, 1f);
                FloatArray dx = Checks.random(rnd, N * C, 1f);
                FloatArray da = Checks.random(rnd, r * C, 1f);
                double[] wantDx = Checks.toDouble(dx);
                double[] wantDa = Checks.toDouble(da);
                Checks.run(backend, MatmulOps.backward(dx, da, null, dh, x, a, N, C, r), new Object[] { dx, da, dh, x, a },
                        new Object[] { dx, da });
                MatmulReference.backward(Checks.toDouble(dh), Checks.toDouble(x), Checks.toDouble(a), wantDx, wantDa, null, N, C, r);
                double eb = Checks.worst(Checks.error(dx, wantDx), Checks.error(da, wantDa));
                assertTrue(eb < 1e-5, () -> "backward " + shape + ": " + eb);
            }
        }
    }

    /**
     * The frozen layer (Matmul, forward and the input's gradient) with its LoRA update, against PyTorch autograd
     * (fixtures/make_fixtures.py, float64 rounded to float32): y, dx, dA and dB. Tolerance as {@link LoraCheck}'s,
     * 1e-5: float32 sums of C, OC and N products.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void matchesPyTorch(Backend backend) {
        try (Safetensors f = Fixtures.open("lora")) {
            int N = Fixtures.meta(f, "N"), C = Fixtures.meta(f, "C"), OC = Fixtures.meta(f, "OC"), r = Fixtures.meta(f, "r");
            float scale = Float.parseFloat(f.metadata().get("alpha")) / r;
            FloatArray x = f.floats("x");
            FloatArray w = f.floats("W");
            FloatArray b = f.floats("b");
            FloatArray a = f.floats("A");
            FloatArray bm = f.floats("B");
            FloatArray dy = f.floats("dy");
            FloatArray y = new FloatArray(N * OC);
            FloatArray h = new FloatArray(N * r);
            Checks.run(backend, LoraOps.forward(y, h, x, w, b, a, bm, scale, N, C, OC, r), new Object[] { x, w, b, a, bm, h }, new Object[] { y, h });
            PyTorchFixturesTest.close("LoRA forward", y, f.floats("y"), 1e-5);

            FloatArray dx = new FloatArray(N * C);
            FloatArray da = new FloatArray(r * C);
            FloatArray db = new FloatArray(OC * r);
            FloatArray dh = new FloatArray(N * r);
            Checks.run(backend, LoraOps.backward(dx, da, db, dh, dy, x, h, w, a, bm, scale, N, C, OC, r), new Object[] { x, w, a, bm, h, dy, dx, da, db, dh },
                    new Object[] { dx, da, db });
            PyTorchFixturesTest.close("LoRA d x", dx, f.floats("dx"), 1e-5);
            PyTorchFixturesTest.close("LoRA d A", da, f.floats("dA"), 1e-5);
            PyTorchFixturesTest.close("LoRA d B", db, f.floats("dB"), 1e-5);
        }
    }

    /**
     * The JVM twin's vectors run across outputs, never along a sum: each output is the device work-item's sum in its
     * order, so the same bits as the work-item's Java code (the forward's: {@link dev.tgpt.kernels.Matmul}'s store
     * adds scale·Σ_k h·B to the frozen output, written out below). Ranks below, at and above a vector's lanes (with a
     * masked rest), rows and dB rows not multiples of a block.
     */
    @Test
    void theJvmTwinGivesTheWorkItemsBits() {
        Random rnd = new Random(41);
        for (int[] s : new int[][] { { 37, 50, 3 }, { 19, 33, 16 }, { 21, 70, 21 } }) {
            int N = s[0], OC = s[1], r = s[2];
            float scale = 2f;
            FloatArray h = Checks.random(rnd, N * r, 1f);
            FloatArray b = Checks.random(rnd, OC * r, 1f);
            FloatArray dy = Checks.random(rnd, N * OC, 1f);
            FloatArray y = Checks.random(rnd, N * OC, 1f);
            FloatArray db = Checks.random(rnd, OC * r, 1f);
            FloatArray dh = new FloatArray(N * r);
            FloatArray y2 = copy(y), db2 = copy(db), dh2 = new FloatArray(N * r);
            for (int n = 0; n < N; n++) {
                for (int o = 0; o < OC; o++) {
                    float sum = 0f;
                    for (int k = 0; k < r; k++) {
                        sum += h.get(n * r + k) * b.get(o * r + k);
                    }
                    y.set(n * OC + o, y.get(n * OC + o) + scale * sum);
                }
            }
            for (int i = 0; i < OC * r; i++) {
                Lora.backwardBAt(db, 0, dy, h, scale, N, OC, r, i);
            }
            for (int i = 0; i < N * r; i++) {
                Lora.backwardHAt(dh, dy, b, 0, scale, OC, r, i);
            }
            float[] bt = LoraVector.transposed(b, OC, r);
            LoraVector.forward(y2, h, bt, scale, OC, r, 0, 5);
            LoraVector.forward(y2, h, bt, scale, OC, r, 5, N);
            LoraVector.backwardB(db2, dy, h, scale, N, OC, r, 0, 17);
            LoraVector.backwardB(db2, dy, h, scale, N, OC, r, 17, OC);
            float[] bs = LoraVector.padded(b, OC, r);
            LoraVector.backwardH(dh2, dy, bs, scale, OC, r, 0, 16);
            LoraVector.backwardH(dh2, dy, bs, scale, OC, r, 16, N);
            String shape = "N=" + N + " OC=" + OC + " r=" + r;
            assertArrayEquals(y.toHeapArray(), y2.toHeapArray(), "forward " + shape);
            assertArrayEquals(db.toHeapArray(), db2.toHeapArray(), "dB " + shape);
            assertArrayEquals(dh.toHeapArray(), dh2.toHeapArray(), "dh " + shape);
        }
    }

    private static FloatArray copy(FloatArray a) {
        return FloatArray.fromArray(a.toHeapArray());
    }

    /** W, b, A, B, dA and dB as views of a slab: the same bits as plain arrays, nothing else in the slab touched. */
    @ParameterizedTest
    @MethodSource("backends")
    void parametersInASlabGiveTheSameBits(Backend backend) {
        Random rnd = new Random(23);
        int N = 5, C = 7, OC = 9, r = 3;
        float scale = 8f / r;
        FloatArray[] params = { Checks.random(rnd, r * C, 1f), Checks.random(rnd, OC * r, 1f), Checks.random(rnd, r * C, 1f),
                Checks.random(rnd, OC * r, 1f), Checks.random(rnd, OC * C, 1f), Checks.random(rnd, OC, 1f) };
        // x, y, h, dy, dx, dh
        FloatArray[] others = { Checks.random(rnd, N * C, 1f), Checks.random(rnd, N * OC, 1f), new FloatArray(N * r), Checks.random(rnd, N * OC, 1f),
                Checks.random(rnd, N * C, 1f), new FloatArray(N * r) };
        SlabRuns.assertSameInSlab(backend, params, others, new Object[0], (p, o) -> {
            List<Launch> launches = new ArrayList<>(LoraOps.forward(o[1], o[2], o[0], p[4], p[5], p[0], p[1], scale, N, C, OC, r));
            launches.addAll(LoraOps.backward(o[4], p[2], p[3], o[5], o[3], o[0], o[2], p[4], p[0], p[1], scale, N, C, OC, r));
            return launches;
        });
    }
}
