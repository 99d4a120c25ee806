package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.check.AttentionCheck;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.kernels.AttentionReference;
import dev.tgpt.kernels.AttentionReference.Mask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class AttentionTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** Causal, and a two-sided window with one query row that may attend to nothing. */
    static java.util.stream.Stream<Mask> masks() {
        return java.util.stream.Stream.of(AttentionReference.CAUSAL, (t, t2) -> t != 1 && Math.abs(t - t2) <= 2);
    }

    /** The reference backward against central differences of the reference forward (double: agreement to ~1e-9). */
    @ParameterizedTest
    @MethodSource("masks")
    void referenceBackwardMatchesFiniteDifferences(Mask mask) {
        Random r = new Random(7);
        int B = 2;
        int T = 5;
        int C = 6;
        int NH = 2;
        double[] qkv = FiniteDifferences.random(r, B * T * 3 * C);
        double[] dout = FiniteDifferences.random(r, B * T * C);
        double[] dqkv = new double[B * T * 3 * C];
        AttentionReference.backward(dout, qkv, dqkv, B, T, C, NH, mask);
        double[] att = new double[B * NH * T * T];
        double[] numeric = FiniteDifferences.gradient(qkv,
                v -> FiniteDifferences.dot(dout, AttentionReference.forward(v, att, B, T, C, NH, mask)), 1e-5);
        assertTrue(FiniteDifferences.relativeError(dqkv, numeric) < 1e-7);
    }

    /** No atomics and fixed summation orders: two runs give the same bits. */
    @ParameterizedTest
    @MethodSource("backends")
    void kernelsAreReproducible(Backend backend) {
        assertArrayEquals(forwardBackward(backend), forwardBackward(backend));
    }

    /** out, att and dqkv at B=2, T=33, C=40, NH=5, from fixed inputs. */
    private static float[] forwardBackward(Backend backend) {
        int B = 2;
        int T = 33;
        int C = 40;
        int NH = 5;
        Random r = new Random(3);
        FloatArray qkv = Checks.random(r, B * T * 3 * C, 2f);
        FloatArray dout = Checks.random(r, B * T * C, 1f);
        FloatArray out = new FloatArray(B * T * C);
        FloatArray att = new FloatArray(B * NH * T * T);
        FloatArray dqkv = new FloatArray(B * T * 3 * C);
        dqkv.clear();
        FloatArray dpreatt = new FloatArray(B * NH * T * T);
        List<Launch> launches = new ArrayList<>();
        launches.add(AttentionOps.forward(out, att, qkv, B, T, C, NH));
        launches.addAll(AttentionOps.backward(dqkv, dpreatt, dout, qkv, att, B, T, C, NH));
        Checks.run(backend, launches, new Object[] { qkv, dout, dqkv }, new Object[] { out, att, dqkv });
        float[] all = new float[out.getSize() + att.getSize() + dqkv.getSize()];
        System.arraycopy(out.toHeapArray(), 0, all, 0, out.getSize());
        System.arraycopy(att.toHeapArray(), 0, all, out.getSize(), att.getSize());
        System.arraycopy(dqkv.toHeapArray(), 0, all, out.getSize() + att.getSize(), dqkv.getSize());
        return all;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new AttentionCheck().run(backend)) {
            System.out.println(backend.info().id() + ": " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
