package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.GeluOps;
import dev.tgpt.kernels.GeluReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GELU against {@link GeluReference}, over ±5 (both tails and the bend), at sizes that are no multiple of any
 * work-group. Tolerances: each value is a few float32 operations and one tanh (OpenCL allows tanh 5 ulp, 3e-7), so a
 * relative error of a few 1e-7; forward and backward allow 1e-5 (the max-normalised error hides nothing here: every
 * element is independent and of similar size).
 */
public final class GeluCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 3 * 768 + 5 };

    @Override
    public String op() {
        return "gelu";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int n : SIZES) {
            String shape = "n=" + n;
            FloatArray x = Checks.random(r, n, 5f);
            FloatArray y = new FloatArray(n);
            Checks.run(backend, List.of(GeluOps.forward(y, x, n)), new Object[] { x }, new Object[] { y });
            results.add(new CheckResult(op(), "forward", shape, Checks.error(y, GeluReference.forward(Checks.toDouble(x))), 1e-5));

            FloatArray dy = Checks.random(r, n, 1f);
            FloatArray dx = Checks.random(r, n, 1f);
            double[] wantDx = Checks.toDouble(dx);
            Checks.run(backend, List.of(GeluOps.backward(dx, dy, x, n)), new Object[] { dx, dy, x }, new Object[] { dx });
            GeluReference.backward(Checks.toDouble(dy), Checks.toDouble(x), wantDx);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dx, wantDx), 1e-5));
        }
        return results;
    }
}
