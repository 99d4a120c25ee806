package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.LayerNormOps;
import dev.tgpt.kernels.LayerNormReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * LayerNorm against {@link LayerNormReference}. Tolerances: a float32 sum over a row of C carries a relative error of
 * about √C·2⁻²⁴ (≈2e-6 at C = 768); forward allows 1e-5. Backward subtracts two means of g from g, which cancels
 * digits; it allows 1e-4.
 */
public final class LayerNormCheck implements OpCheck {

    static final int[][] SHAPES = { { 3, 45 }, { 7, 257 }, { 33, 768 } };

    @Override
    public String op() {
        return "layernorm";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int N = s[0];
            int C = s[1];
            String shape = "N=" + N + " C=" + C;
            FloatArray x = Checks.random(r, N * C, 2f);
            FloatArray w = Checks.random(r, C, 1f);
            FloatArray b = Checks.random(r, C, 1f);
            FloatArray y = new FloatArray(N * C);
            FloatArray mean = new FloatArray(N);
            FloatArray rstd = new FloatArray(N);
            Checks.run(backend, List.of(LayerNormOps.forward(y, mean, rstd, x, w, b, N, C)), new Object[] { x, w, b },
                    new Object[] { y, mean, rstd });
            double[] wantMean = new double[N];
            double[] wantRstd = new double[N];
            double[] wantY = LayerNormReference.forward(Checks.toDouble(x), Checks.toDouble(w), Checks.toDouble(b), wantMean, wantRstd, N, C);
            results.add(new CheckResult(op(), "forward", shape,
                    Checks.worst(Checks.error(y, wantY), Checks.error(mean, wantMean), Checks.error(rstd, wantRstd)), 1e-5));

            // Gradients start non-zero: backward must add to them.
            FloatArray dy = Checks.random(r, N * C, 1f);
            FloatArray dx = Checks.random(r, N * C, 1f);
            FloatArray dw = Checks.random(r, C, 1f);
            FloatArray db = Checks.random(r, C, 1f);
            double[] wantDx = Checks.toDouble(dx);
            double[] wantDw = Checks.toDouble(dw);
            double[] wantDb = Checks.toDouble(db);
            Checks.run(backend, LayerNormOps.backward(dx, dw, db, dy, x, w, mean, rstd, N, C),
                    new Object[] { dx, dw, db, dy, x, w, mean, rstd }, new Object[] { dx, dw, db });
            LayerNormReference.backward(Checks.toDouble(dy), Checks.toDouble(x), Checks.toDouble(w), wantDx, wantDw, wantDb, N, C);
            results.add(new CheckResult(op(), "backward", shape,
                    Checks.worst(Checks.error(dx, wantDx), Checks.error(dw, wantDw), Checks.error(db, wantDb)), 1e-4));
        }
        return results;
    }
}
