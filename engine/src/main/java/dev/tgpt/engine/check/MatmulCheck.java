package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.MatmulOps;
import dev.tgpt.kernels.MatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Matmul against {@link MatmulReference}, with and without bias, at sizes that are not multiples of any tile (the
 * device kernel's 64 × 64 blocks and 16-deep k-slices, the JVM kernel's 8 × 32 register tiles and 256-deep
 * k-blocks). Tolerance: a float32 sum of K products carries a rounding error of about √K·2⁻²⁴ of the sum of their
 * magnitudes (≈1e-6 at K = 300), which for these random inputs is a few times the largest output; 1e-5 allows for
 * that with margin, in both directions (backward's gradients start non-zero and are added to).
 */
public final class MatmulCheck implements OpCheck {

    /** N, C, OC, bias (1) or none (0). */
    static final int[][] SHAPES = { { 7, 33, 45, 1 }, { 7, 33, 45, 0 }, { 1, 17, 5, 1 }, { 64, 100, 130, 1 }, { 64, 100, 130, 0 },
            { 130, 300, 70, 1 } };

    @Override
    public String op() {
        return "matmul";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int N = s[0];
            int C = s[1];
            int OC = s[2];
            boolean withBias = s[3] == 1;
            String shape = "N=" + N + " C=" + C + " OC=" + OC + (withBias ? "" : " no bias");
            FloatArray x = Checks.random(r, N * C, 1f);
            FloatArray w = Checks.random(r, OC * C, 1f);
            FloatArray b = withBias ? Checks.random(r, OC, 1f) : null;
            FloatArray y = Checks.random(r, N * OC, 1f); // overwritten: forward does not add
            Object[] in = withBias ? new Object[] { x, w, b } : new Object[] { x, w };
            Checks.run(backend, List.of(MatmulOps.forward(y, x, w, b, N, C, OC)), in, new Object[] { y });
            double[] wantY = MatmulReference.forward(Checks.toDouble(x), Checks.toDouble(w), withBias ? Checks.toDouble(b) : null, N, C, OC);
            results.add(new CheckResult(op(), "forward", shape, Checks.error(y, wantY), 1e-5));

            // Gradients start non-zero: backward must add to them.
            FloatArray dy = Checks.random(r, N * OC, 1f);
            FloatArray dx = Checks.random(r, N * C, 1f);
            FloatArray dw = Checks.random(r, OC * C, 1f);
            FloatArray db = withBias ? Checks.random(r, OC, 1f) : null;
            double[] wantDx = Checks.toDouble(dx);
            double[] wantDw = Checks.toDouble(dw);
            double[] wantDb = withBias ? Checks.toDouble(db) : null;
            Object[] grads = withBias ? new Object[] { dx, dw, db } : new Object[] { dx, dw };
            Object[] state = withBias ? new Object[] { dx, dw, db, dy, x, w } : new Object[] { dx, dw, dy, x, w };
            Checks.run(backend, MatmulOps.backward(dx, dw, db, dy, x, w, N, C, OC), state, grads);
            MatmulReference.backward(Checks.toDouble(dy), Checks.toDouble(x), Checks.toDouble(w), wantDx, wantDw, wantDb, N, C, OC);
            double error = Checks.worst(Checks.error(dx, wantDx), Checks.error(dw, wantDw), withBias ? Checks.error(db, wantDb) : 0);
            results.add(new CheckResult(op(), "backward", shape, error, 1e-5));
        }
        return results;
    }
}
