package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The JVM backend's {@link CrossEntropy}, one row of V logits per call, on whole vectors. Both go through the row in
 * blocks that fit in L1 cache, exps into a scratch row first ({@link VectorRows#exps}); backward then updates dlogits
 * from that block's softmax.
 */
public final class CrossEntropyVector {

    /** Columns per block of backward: small enough to stay in L1 cache; a whole number of vectors. */
    private static final int BLOCK = 2048;

    private CrossEntropyVector() {
    }

    public static void forward(FloatArray losses, FloatArray logSumExp, FloatArray logits, IntArray targets, int row, int V) {
        MemorySegment x = logits.getSegment();
        int base = row * V;
        float max = VectorRows.scaledMax(x, base, 1f, V);
        MemorySegment p = VectorRows.scratch(BLOCK);
        float sum = 0f;
        for (int from = base; from < base + V; from += BLOCK) {
            sum += VectorRows.exps(x, from, 1f, max, Math.min(BLOCK, base + V - from), p);
        }
        CrossEntropy.finishRow(losses, logSumExp, logits, targets, row, base, max, sum, V);
    }

    /** Adds (softmax − onehot)·dloss to the row of dlogits. */
    public static void backward(FloatArray dlogits, FloatArray logits, FloatArray logSumExp, IntArray targets, FloatArray dloss, int row,
            int V) {
        int target = targets.get(row);
        if (!CrossEntropy.counts(target, V)) {
            return;
        }
        MemorySegment x = logits.getSegment();
        MemorySegment dx = dlogits.getSegment();
        float lse = logSumExp.get(row);
        float d = dloss.get(row);
        MemorySegment p = VectorRows.scratch(BLOCK);
        int end = (row + 1) * V;
        for (int from = row * V; from < end; from += BLOCK) {
            int n = Math.min(BLOCK, end - from);
            VectorRows.exps(x, from, 1f, lse, n, p);
            int t = row * V + target - from;
            if (t >= 0 && t < n) {
                p.setAtIndex(JAVA_FLOAT, t, p.getAtIndex(JAVA_FLOAT, t) - 1f);
            }
            addScaled(dx, from, p, d, n);
        }
    }

    /** dx[from + j] += p[j]·d for j in [0, n). */
    private static void addScaled(MemorySegment dx, int from, MemorySegment p, float d, int n) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            store(load(dx, from + j, m).add(load(p, j).mul(d)), dx, from + j, m);
        }
    }
}
