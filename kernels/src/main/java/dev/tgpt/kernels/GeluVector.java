package dev.tgpt.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's GELU: {@link Gelu}'s formulas on whole vectors, where the JVM computes exp lane-wise (SVML on
 * x86) instead of one scalar exp per element, which would leave GELU far from memory speed. Elements [from, to).
 */
public final class GeluVector {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private GeluVector() {
    }

    public static void forward(FloatArray out, FloatArray inp, int from, int to) {
        MemorySegment o = out.getSegment();
        MemorySegment x = inp.getSegment();
        int i = from;
        for (; i <= to - S.length(); i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, 4L * i, ORDER);
            v.mul(sigmoid2u(v)).intoMemorySegment(o, 4L * i, ORDER);
        }
        for (; i < to; i++) {
            Gelu.forwardAt(out, inp, i);
        }
    }

    public static void backward(FloatArray dinp, FloatArray dout, FloatArray inp, int from, int to) {
        MemorySegment dx = dinp.getSegment();
        MemorySegment dy = dout.getSegment();
        MemorySegment x = inp.getSegment();
        int i = from;
        for (; i <= to - S.length(); i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, 4L * i, ORDER);
            FloatVector s = sigmoid2u(v);
            FloatVector du = v.mul(v).mul(3f * Gelu.CUBIC).add(1f).mul(Gelu.SQRT_2_OVER_PI);
            FloatVector grad = s.add(v.mul(s).mul(s.neg().add(1f)).mul(du).mul(2f));
            FloatVector.fromMemorySegment(S, dx, 4L * i, ORDER).add(FloatVector.fromMemorySegment(S, dy, 4L * i, ORDER).mul(grad))
                    .intoMemorySegment(dx, 4L * i, ORDER);
        }
        for (; i < to; i++) {
            Gelu.backwardAt(dinp, dout, inp, i);
        }
    }

    private static FloatVector sigmoid2u(FloatVector x) {
        FloatVector u = x.mul(x).mul(Gelu.CUBIC).add(1f).mul(x).mul(-2f * Gelu.SQRT_2_OVER_PI);
        return FloatVector.broadcast(S, 1f).div(u.lanewise(VectorOperators.EXP).add(1f));
    }
}
