package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.ops.DropoutOps;
import dev.tgpt.kernels.Dropout;
import dev.tgpt.kernels.DropoutReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Dropout against {@link DropoutReference}, and the mask's properties:
 * <ul>
 * <li>forward, backward: one float32 multiply by 1/(1 − p) per element (≤ 1 ulp against double); allow 1e-6.
 * <li>mask: backward with dy = x from dx = 0 equals forward's y bit for bit (the same mask); allow 0.
 * <li>p=0: forward is x and backward adds dy, exactly; allow 0.
 * <li>kept: the kept fraction over n = 65537 is 1 − p within 4 standard deviations, √(p(1 − p)/n).
 * <li>repeat: one compiled program run twice with the same seed gives the same y; allow 0 differing elements.
 * <li>reseed: the same compiled program after the host changed seed[0] matches the reference at the new seed (the
 * seed is read on the device, not compiled in); allow 1e-6.
 * <li>distinct: the masks of two seeds, and of two streams, differ on a fraction 2p(1 − p) of elements, within 4
 * standard deviations.
 * </ul>
 * Inputs are in [0.5, 1.5), never 0, so y = 0 exactly where an element was dropped.
 */
public final class DropoutCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 4099 };
    static final int LARGE = 65537;
    static final float P = 0.1f;
    static final int STREAM = 3;

    @Override
    public String op() {
        return "dropout";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        IntArray seed = IntArray.fromArray(new int[] { 1234, 0 });
        for (int n : SIZES) {
            String shape = "n=" + n + " p=" + P;
            FloatArray x = inputs(r, n);
            FloatArray y = new FloatArray(n);
            Checks.run(backend, List.of(DropoutOps.forward(y, x, seed, STREAM, P, n)), new Object[] { x, seed }, new Object[] { y });
            results.add(new CheckResult(op(), "forward", shape, Checks.error(y, DropoutReference.forward(Checks.toDouble(x), 1234, STREAM, P)),
                    1e-6));

            FloatArray dy = Checks.random(r, n, 1f);
            FloatArray dx = Checks.random(r, n, 1f);
            double[] wantDx = Checks.toDouble(dx);
            Checks.run(backend, List.of(DropoutOps.backward(dx, dy, seed, STREAM, P, n)), new Object[] { dx, dy, seed }, new Object[] { dx });
            DropoutReference.backward(Checks.toDouble(dy), wantDx, 1234, STREAM, P);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dx, wantDx), 1e-6));

            FloatArray dxFromZero = new FloatArray(n);
            dxFromZero.clear();
            Checks.run(backend, List.of(DropoutOps.backward(dxFromZero, x, seed, STREAM, P, n)), new Object[] { dxFromZero, x, seed },
                    new Object[] { dxFromZero });
            results.add(new CheckResult(op(), "mask", shape, differing(dxFromZero, y), 0));
        }

        int n = LARGE;
        FloatArray x = inputs(r, n);
        FloatArray y = new FloatArray(n);
        FloatArray dy = Checks.random(r, n, 1f);
        FloatArray dx = Checks.random(r, n, 1f);
        double[] wantDx = Checks.toDouble(dx);
        Checks.run(backend, List.of(DropoutOps.forward(y, x, seed, STREAM, 0f, n), DropoutOps.backward(dx, dy, seed, STREAM, 0f, n)),
                new Object[] { x, seed, dx, dy }, new Object[] { y, dx });
        for (int i = 0; i < n; i++) {
            wantDx[i] += dy.get(i);
        }
        results.add(new CheckResult(op(), "p=0", "n=" + n, Checks.worst(Checks.error(y, Checks.toDouble(x)), Checks.error(dx, wantDx)), 0));

        for (float p : new float[] { P, 0.5f }) {
            String shape = "n=" + n + " p=" + p;
            double sigma = Math.sqrt(p * (1 - p) / n);
            Checks.run(backend, List.of(DropoutOps.forward(y, x, seed, STREAM, p, n)), new Object[] { x, seed }, new Object[] { y });
            results.add(new CheckResult(op(), "kept", shape, Math.abs(kept(y) - (1 - p)), 4 * sigma));

            double changes = 2 * p * (1 - p);
            double changeSigma = Math.sqrt(changes * (1 - changes) / n);
            results.add(new CheckResult(op(), "distinct", shape + " seeds",
                    Math.abs(maskChanges(1234, STREAM, 1235, STREAM, p, n) - changes), 4 * changeSigma));
            results.add(new CheckResult(op(), "distinct", shape + " streams",
                    Math.abs(maskChanges(1234, STREAM, 1234, STREAM + 1, p, n) - changes), 4 * changeSigma));
        }

        // One compiled program, the seed an input refilled by the host between runs, as in training.
        FloatArray first = new FloatArray(n);
        IntArray stepSeed = IntArray.fromArray(new int[] { 77, 0 });
        Program program = new Program("dropoutReseed").state(x).inputs(stepSeed).outputs(y).add(DropoutOps.forward(y, x, stepSeed, STREAM, P, n));
        try (Session c = backend.open(program)) {
            c.run(program);
            for (int i = 0; i < n; i++) {
                first.set(i, y.get(i));
            }
            c.run(program);
            results.add(new CheckResult(op(), "repeat", "n=" + n + " p=" + P, differing(y, first), 0));
            stepSeed.set(0, 78);
            c.run(program);
            results.add(new CheckResult(op(), "reseed", "n=" + n + " p=" + P,
                    Checks.error(y, DropoutReference.forward(Checks.toDouble(x), 78, STREAM, P)), 1e-6));
        }
        return results;
    }

    /** Uniform in [0.5, 1.5): never zero. */
    private static FloatArray inputs(Random r, int n) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, 0.5f + r.nextFloat());
        }
        return a;
    }

    private static double differing(FloatArray a, FloatArray b) {
        int count = 0;
        for (int i = 0; i < a.getSize(); i++) {
            if (Float.floatToIntBits(a.get(i)) != Float.floatToIntBits(b.get(i))) {
                count++;
            }
        }
        return count;
    }

    private static double kept(FloatArray y) {
        int count = 0;
        for (int i = 0; i < y.getSize(); i++) {
            if (y.get(i) != 0) {
                count++;
            }
        }
        return (double) count / y.getSize();
    }

    private static double maskChanges(int seedA, int streamA, int seedB, int streamB, float p, int n) {
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (Dropout.keeps(seedA, streamA, p, i) != Dropout.keeps(seedB, streamB, p, i)) {
                count++;
            }
        }
        return (double) count / n;
    }
}
