package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's GELU: {@link Gelu}'s formulas on whole vectors. Elements [from, to) go in blocks that stay in L1
 * cache: the exps that σ(2u) = 1/(1 + e^(−2u)) needs, into a scratch row ({@link #exps}), then the output from x and
 * them. The exps come from {@link VectorRows#exps}, whose bits do not depend on the JIT (lanewise(EXP) runs Math.exp
 * per lane until C2 compiles the loop, and a vector library after), and which takes arguments ≤ 0: it is given
 * −|2u|, and σ(2u) = 1/(1 + e) for x ≥ 0 (where −2u ≤ 0), e/(1 + e) for x < 0.
 */
public final class GeluVector {

    /** Elements per block: a whole number of vectors. */
    private static final int BLOCK = 2048;

    private GeluVector() {
    }

    public static void forward(FloatArray out, FloatArray inp, int from, int to) {
        MemorySegment x = inp.getSegment();
        MemorySegment y = out.getSegment();
        MemorySegment e = VectorRows.scratch(BLOCK);
        FloatVector one = FloatVector.broadcast(VectorRows.S, 1f);
        for (int i = from; i < to; i += BLOCK) {
            int n = Math.min(BLOCK, to - i);
            exps(x, i, n, e);
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> m = part(j, n);
                FloatVector v = load(x, i + j, m);
                FloatVector ev = load(e, j);
                store(v.mul(one.blend(ev, v.lt(0f)).div(ev.add(1f))), y, i + j, m);
            }
        }
    }

    public static void backward(FloatArray dinp, FloatArray dout, FloatArray inp, int from, int to) {
        MemorySegment dx = dinp.getSegment();
        MemorySegment dy = dout.getSegment();
        MemorySegment x = inp.getSegment();
        MemorySegment e = VectorRows.scratch(BLOCK);
        FloatVector one = FloatVector.broadcast(VectorRows.S, 1f);
        for (int i = from; i < to; i += BLOCK) {
            int n = Math.min(BLOCK, to - i);
            exps(x, i, n, e);
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> m = part(j, n);
                FloatVector v = load(x, i + j, m);
                FloatVector ev = load(e, j);
                FloatVector s = one.blend(ev, v.lt(0f)).div(ev.add(1f));
                FloatVector du = v.mul(v).mul(3f * Gelu.CUBIC).add(1f).mul(Gelu.SQRT_2_OVER_PI);
                FloatVector grad = s.add(v.mul(s).mul(s.neg().add(1f)).mul(du).mul(2f));
                store(load(dx, i + j, m).add(load(dy, i + j, m).mul(grad)), dx, i + j, m);
            }
        }
    }

    /** e[j] = exp(−|2u|) for x[i + j], j in [0, n). */
    private static void exps(MemorySegment x, int i, int n, MemorySegment e) {
        for (int j = 0; j < n; j += L) {
            FloatVector v = load(x, i + j, part(j, n));
            store(v.mul(v).mul(Gelu.CUBIC).add(1f).mul(v).abs().mul(-2f * Gelu.SQRT_2_OVER_PI), e, j);
        }
        VectorRows.exps(e, 0, 1f, 0f, n, e);
    }
}
