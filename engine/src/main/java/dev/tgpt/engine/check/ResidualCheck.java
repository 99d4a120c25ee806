package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.ResidualOps;
import dev.tgpt.kernels.ResidualReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The residual add against {@link ResidualReference}, at sizes no multiple of a work-group. Each output is one float32
 * add, within half an ulp of the exact sum; allow 1e-6.
 */
public final class ResidualCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 3 * 768 + 5 };

    @Override
    public String op() {
        return "residual";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int n : SIZES) {
            String shape = "n=" + n;
            FloatArray a = Checks.random(r, n, 1f);
            FloatArray b = Checks.random(r, n, 1f);
            FloatArray out = new FloatArray(n);
            Checks.run(backend, List.of(ResidualOps.forward(out, a, b, n)), new Object[] { a, b }, new Object[] { out });
            results.add(new CheckResult(op(), "forward", shape, Checks.error(out, ResidualReference.forward(Checks.toDouble(a), Checks.toDouble(b))),
                    1e-6));

            FloatArray dout = Checks.random(r, n, 1f);
            FloatArray da = Checks.random(r, n, 1f);
            FloatArray db = Checks.random(r, n, 1f);
            double[] wantDa = Checks.toDouble(da);
            double[] wantDb = Checks.toDouble(db);
            Checks.run(backend, List.of(ResidualOps.backward(da, db, dout, n)), new Object[] { da, db, dout }, new Object[] { da, db });
            ResidualReference.backward(Checks.toDouble(dout), wantDa, wantDb);
            results.add(new CheckResult(op(), "backward", shape, Checks.worst(Checks.error(da, wantDa), Checks.error(db, wantDb)), 1e-6));
        }
        return results;
    }
}
