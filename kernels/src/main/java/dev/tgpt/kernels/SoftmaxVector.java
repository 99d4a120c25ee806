package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.S;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's {@link Softmax}, one row per call, on whole vectors with exp computed lane-wise. Forward keeps
 * each exp(s·x − m) in a scratch row until the sum is known, then writes y once: one exp per element, not two.
 */
public final class SoftmaxVector {

    private SoftmaxVector() {
    }

    public static void forward(FloatArray out, FloatArray inp, float scale, int T, int causal, int row) {
        MemorySegment x = inp.getSegment();
        int base = row * T;
        int visible = Softmax.visibleColumns(row, T, causal);
        float max = VectorRows.scaledMax(x, base, scale, visible);
        MemorySegment e = VectorRows.scratch(T + L);
        float sum = VectorRows.exps(x, base, scale, max, visible, e);
        write(out.getSegment(), base, e, 1f / sum, visible, T);
    }

    /** y = e·inverseSum over the visible columns, 0 over the rest. */
    private static void write(MemorySegment y, int base, MemorySegment e, float inverseSum, int visible, int T) {
        for (int j = 0; j < visible; j += L) {
            store(load(e, j).mul(inverseSum), y, base + j, part(j, visible));
        }
        FloatVector zero = FloatVector.zero(S);
        for (int j = visible; j < T; j += L) {
            store(zero, y, base + j, part(j, T));
        }
    }

    /** Given the forward's output y (out) and dy (dout), adds to dinp. */
    public static void backward(FloatArray dinp, FloatArray dout, FloatArray out, float scale, int T, int causal, int row) {
        MemorySegment dy = dout.getSegment();
        MemorySegment y = out.getSegment();
        int base = row * T;
        int visible = Softmax.visibleColumns(row, T, causal);
        addGradient(dinp.getSegment(), dy, y, base, scale, dot(y, dy, base, visible), visible);
    }

    private static float dot(MemorySegment y, MemorySegment dy, int base, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            acc = acc.add(load(y, base + j, m).mul(load(dy, base + j, m)));
        }
        return VectorRows.addLanes(acc);
    }

    /** dx += s·y⊙(dy − Σ y·dy). */
    private static void addGradient(MemorySegment dx, MemorySegment dy, MemorySegment y, int base, float scale, float yDotDy, int n) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            FloatVector grad = load(y, base + j, m).mul(scale).mul(load(dy, base + j, m).sub(yDotDy));
            store(load(dx, base + j, m).add(grad), dx, base + j, m);
        }
    }
}
