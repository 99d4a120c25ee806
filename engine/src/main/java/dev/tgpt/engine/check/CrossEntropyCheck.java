package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.kernels.CrossEntropyReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Cross-entropy against {@link CrossEntropyReference}, at GPT-2's V = 50,257 and at odd small V (7: most work-items
 * of a row idle; 1001). In every shape one row is ignored (target −1, with a non-zero dloss that must not be used)
 * and row 0 has one logit raised by 12 so that its softmax is far from uniform. dloss is 1/#counted rows, as for a
 * mean loss. Tolerances: the row sum of exp is a float32 sum of V terms (on a device ≤ 197 strided terms per
 * work-item then an 8-level tree; on the JVM backend one sequential sum, the worse: ~1e-6 relative at V = 50,257),
 * which log turns into ~1e-6 absolute in lse and loss (loss ≈ 11 at V = 50,257); exp(x − lse) inherits ~1e-6
 * relative. Forward and backward allow 1e-5 of the largest value. Gradients
 * start small and non-zero (±2/V, the size of a softmax entry), so the check sees the increments and that backward
 * adds.
 */
public final class CrossEntropyCheck implements OpCheck {

    /** { N, V }. */
    static final int[][] SHAPES = { { 5, 7 }, { 4, 1001 }, { 3, 50257 } };

    @Override
    public String op() {
        return "crossentropy";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int N = s[0];
            int V = s[1];
            String shape = "N=" + N + " V=" + V;
            FloatArray logits = Checks.random(r, N * V, 2f);
            IntArray targets = Checks.randomInts(r, N, V);
            targets.set(N - 1, -1);
            logits.set((targets.get(0) + 1) % V, logits.get((targets.get(0) + 1) % V) + 12f);
            FloatArray losses = new FloatArray(N);
            FloatArray logSumExp = new FloatArray(N);
            Checks.run(backend, List.of(CrossEntropyOps.forward(losses, logSumExp, logits, targets, N, V)), new Object[] { logits, targets },
                    new Object[] { losses, logSumExp });
            int[] ids = targets.toHeapArray();
            double[] logitsD = Checks.toDouble(logits);
            results.add(new CheckResult(op(), "forward", shape, Checks.error(losses, CrossEntropyReference.forward(logitsD, ids, N, V)), 1e-5));

            FloatArray dloss = new FloatArray(N);
            dloss.init(1f / (N - 1));
            dloss.set(N - 1, 7f);
            FloatArray dlogits = Checks.random(r, N * V, 2f / V);
            double[] want = Checks.toDouble(dlogits);
            Checks.run(backend, List.of(CrossEntropyOps.backward(dlogits, logits, logSumExp, targets, dloss, N, V)),
                    new Object[] { dlogits, logits, logSumExp, targets, dloss }, new Object[] { dlogits });
            CrossEntropyReference.backward(logitsD, ids, Checks.toDouble(dloss), want, N, V);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dlogits, want), 1e-5));
        }
        return results;
    }
}
