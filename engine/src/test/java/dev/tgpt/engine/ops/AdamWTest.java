package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.check.AdamWCheck;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.kernels.AdamW;
import dev.tgpt.kernels.AdamWVector;
import dev.tgpt.kernels.AdamWReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class AdamWTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** From zero moments, step 1 moves each θ by lr·sign(g) (m̂ = g, v̂ = g²), after decaying it by lr·λ·θ. */
    @Test
    void referenceFirstStepIsSignDescentWithDecay() {
        double[] params = { 1, -2, 0.5 };
        double[] grads = { 0.3, -4, 1e-3 };
        double[] m = new double[3];
        double[] v = new double[3];
        double lr = 0.01;
        double wd = 0.1;
        AdamWReference.step(params, grads, m, v, 0.5, lr, 0.9, 0.999, 1e-12, wd, 1);
        double[] want = { 1 * (1 - lr * wd) - lr, -2 * (1 - lr * wd) + lr, 0.5 * (1 - lr * wd) - lr };
        for (int i = 0; i < 3; i++) {
            assertEquals(want[i], params[i], 1e-9);
            assertEquals(0.1 * 0.5 * grads[i], m[i], 1e-15);
        }
    }

    @Test
    void hyperparametersFollowTheLayout() {
        FloatArray hyper = new FloatArray(AdamW.HYPER_SIZE);
        AdamWOps.hyperparameters(hyper, 6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 2);
        assertEquals(6e-4f, hyper.get(AdamW.LR));
        assertEquals(0.9f, hyper.get(AdamW.BETA1));
        assertEquals(0.95f, hyper.get(AdamW.BETA2));
        assertEquals(1e-8f, hyper.get(AdamW.EPS));
        assertEquals(0.1f, hyper.get(AdamW.WEIGHT_DECAY));
        assertEquals(1 / (1 - Math.pow(0.9f, 2)), hyper.get(AdamW.CORRECTION1), 1e-6);
        assertEquals(1 / (1 - Math.pow(0.95f, 2)), hyper.get(AdamW.CORRECTION2), 1e-5);
    }

    /** The JVM backend's vector update gives every element the per-element helper's bits (so both backends agree exactly). */
    @Test
    void vectorTwinGivesTheHelpersBits() {
        int n = 1000; // not a multiple of any vector length: the tail goes through the helper
        java.util.Random r = new java.util.Random(5);
        FloatArray[] a = new FloatArray[4];
        FloatArray[] b = new FloatArray[4];
        for (int k = 0; k < 4; k++) {
            a[k] = new FloatArray(n);
            b[k] = new FloatArray(n);
            for (int i = 0; i < n; i++) {
                float x = (float) r.nextGaussian() * (k == 3 ? 1e-3f : 1f);
                a[k].set(i, k == 3 ? Math.abs(x) : x);
                b[k].set(i, a[k].get(i));
            }
        }
        FloatArray hyper = new FloatArray(AdamW.HYPER_SIZE);
        AdamWOps.hyperparameters(hyper, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7);
        FloatArray clip = new FloatArray(1);
        clip.set(0, 0.37f);
        AdamWVector.update(a[0], a[1], a[2], a[3], hyper, clip, 3, n);
        for (int i = 3; i < n; i++) {
            AdamW.updateAt(b[0], 0, b[1], 0, b[2], 0, b[3], 0, hyper, clip, i);
        }
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(b[k].get(i)), Float.floatToIntBits(a[k].get(i)), "array " + k + " element " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new AdamWCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }


    /**
     * Parameters, gradients and both moments each as a view of a slab: the same bits as plain arrays, nothing else
     * touched. One at a time, as a model keeps them (a slab each): a task that writes a slab it is given twice never
     * finishes on TornadoVM 5.2.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void tensorsInASlabGiveTheSameBits(Backend backend) {
        java.util.Random r = new java.util.Random(17);
        int n = 1000;
        FloatArray v = Checks.random(r, n, 1e-3f);
        for (int i = 0; i < n; i++) {
            v.set(i, Math.abs(v.get(i)));
        }
        FloatArray[] params = { Checks.random(r, n, 1f), Checks.random(r, n, 1f), Checks.random(r, n, 1f), v };
        FloatArray hyper = new FloatArray(AdamW.HYPER_SIZE);
        AdamWOps.hyperparameters(hyper, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7);
        FloatArray clip = FloatArray.fromArray(new float[] { 0.37f });
        for (int k = 0; k < 4; k++) {
            int inSlab = k;
            FloatArray[] others = { params[(k + 1) % 4], params[(k + 2) % 4], params[(k + 3) % 4], hyper, clip };
            SlabRuns.assertSameInSlab(backend, new FloatArray[] { params[k] }, others, new Object[0], (p, o) -> {
                FloatArray[] a = new FloatArray[4];
                a[inSlab] = p[0];
                for (int j = 1; j < 4; j++) {
                    a[(inSlab + j) % 4] = o[j - 1];
                }
                return java.util.List.of(AdamWOps.update(a[0], a[1], a[2], a[3], o[3], o[4], n));
            });
        }
    }
}
