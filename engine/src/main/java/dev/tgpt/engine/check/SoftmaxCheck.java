package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.SoftmaxOps;
import dev.tgpt.kernels.SoftmaxReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Softmax against {@link SoftmaxReference}, causal and not, at row lengths 1 (a work-group of one) and 5, 45, 257
 * (work-groups of 8, 64 and 256 with idle work-items; 257 also makes one work-item take two columns). Tolerances: each y is one exp (a few ulp) times the inverse of a
 * float32 sum of at most T terms, relative error about √T·2⁻²⁴ plus a few ulp (≈1e-6 at T = 257); forward allows
 * 1e-5. Backward subtracts Σ y·dy from dy, which cancels digits; it allows 1e-4. Inputs spread over ±4 so rows are
 * peaked and y reaches O(1); gradients start small (±0.01) but non-zero, so the check sees the increments, not the
 * starting values, and that backward adds.
 */
public final class SoftmaxCheck implements OpCheck {

    /** { B·NH, T, causal }. */
    static final int[][] SHAPES = { { 4, 1, 1 }, { 6, 5, 1 }, { 2, 45, 1 }, { 3, 45, 0 }, { 1, 257, 1 } };
    static final float SCALE = 0.37f;

    @Override
    public String op() {
        return "softmax";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int T = s[1];
            int N = s[0] * T;
            boolean causal = s[2] != 0;
            String shape = "N=" + N + " T=" + T + (causal ? " causal" : "");
            FloatArray x = Checks.random(r, N * T, 4f / SCALE);
            FloatArray y = new FloatArray(N * T);
            Checks.run(backend, List.of(SoftmaxOps.forward(y, x, SCALE, N, T, causal)), new Object[] { x }, new Object[] { y });
            results.add(new CheckResult(op(), "forward", shape,
                    Checks.error(y, SoftmaxReference.forward(Checks.toDouble(x), SCALE, N, T, causal)), 1e-5));

            FloatArray dy = Checks.random(r, N * T, 1f);
            FloatArray dx = Checks.random(r, N * T, 0.01f);
            double[] wantDx = Checks.toDouble(dx);
            Checks.run(backend, List.of(SoftmaxOps.backward(dx, dy, y, SCALE, N, T, causal)), new Object[] { dx, dy, y }, new Object[] { dx });
            SoftmaxReference.backward(Checks.toDouble(dy), Checks.toDouble(x), wantDx, SCALE, N, T, causal);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dx, wantDx), 1e-4));
        }
        return results;
    }
}
