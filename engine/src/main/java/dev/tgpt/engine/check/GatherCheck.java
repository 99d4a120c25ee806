package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.GatherOps;
import dev.tgpt.kernels.GatherReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** Gathering rows and its scatter-add backward against {@link GatherReference}: copies and single adds, so 1e-6. */
public final class GatherCheck implements OpCheck {

    /** rows of the source, picked rows, C. */
    static final int[][] SHAPES = { { 7, 3, 5 }, { 64 * 33, 64, 129 } };

    @Override
    public String op() {
        return "gather";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(5);
        for (int[] s : SHAPES) {
            int rowsIn = s[0], B = s[1], C = s[2];
            // one row per sequence, as a classifier picks each sequence's last token: distinct
            int[] picked = new int[B];
            for (int b = 0; b < B; b++) {
                picked[b] = b * (rowsIn / B) + r.nextInt(rowsIn / B);
            }
            IntArray rows = IntArray.fromArray(picked);
            FloatArray inp = Checks.random(r, rowsIn * C, 1f);
            FloatArray out = new FloatArray(B * C);
            Checks.run(backend, List.of(GatherOps.forward(out, inp, rows, B, C)), new Object[] { inp, rows }, new Object[] { out });
            String shape = B + " of " + rowsIn + " rows, C=" + C;
            results.add(new CheckResult(op(), "forward", shape, Checks.error(out, GatherReference.forward(Checks.toDouble(inp), picked, C)), 1e-6));
            FloatArray dout = Checks.random(r, B * C, 1f);
            FloatArray dinp = Checks.random(r, rowsIn * C, 1f);
            double[] want = Checks.toDouble(dinp);
            GatherReference.backward(Checks.toDouble(dout), picked, C, want);
            Checks.run(backend, List.of(GatherOps.backward(dinp, dout, rows, B, C)), new Object[] { dinp, dout, rows }, new Object[] { dinp });
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dinp, want), 1e-6));
        }
        return results;
    }
}
