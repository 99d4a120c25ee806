package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Softmax;
import dev.tgpt.kernels.SoftmaxVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link Softmax} over N rows of T (N = B·NH·T for attention scores). */
public final class SoftmaxOps {

    private SoftmaxOps() {
    }

    public static Launch forward(FloatArray out, FloatArray inp, float scale, int N, int T, boolean causal) {
        int c = causal ? 1 : 0;
        return Launch.groups("softmaxForward", N, groupSize(T),
                (g, id, ctx) -> g.task(id, Softmax::softmaxForward, ctx, out, inp, scale, T, c),
                jvm -> jvm.parallelFor(N, row -> SoftmaxVector.forward(out, inp, scale, T, c, row)));
    }

    /** Adds to dinp, given the forward's output (out) and its gradient (dout). */
    public static Launch backward(FloatArray dinp, FloatArray dout, FloatArray out, float scale, int N, int T, boolean causal) {
        int c = causal ? 1 : 0;
        return Launch.groups("softmaxBackward", N, groupSize(T),
                (g, id, ctx) -> g.task(id, Softmax::softmaxBackward, ctx, dinp, dout, out, scale, T, c),
                jvm -> jvm.parallelFor(N, row -> SoftmaxVector.backward(dinp, dout, out, scale, T, c, row)));
    }

    /** The smallest power of two ≥ T, at most {@link Softmax#GROUP}: short rows leave few work-items idle. */
    static int groupSize(int T) {
        return T <= 1 ? 1 : Math.min(Softmax.GROUP, Integer.highestOneBit(T - 1) << 1);
    }
}
