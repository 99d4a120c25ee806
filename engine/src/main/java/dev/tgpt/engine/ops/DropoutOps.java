package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Dropout;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Dropout} over n values. {@code seed} is an IntArray[1] the host refills every step (a program
 * input); {@code stream} tells apart the dropouts of one step and must be the same in forward and backward.
 */
public final class DropoutOps {

    private DropoutOps() {
    }

    public static Launch forward(FloatArray out, FloatArray inp, IntArray seed, int stream, float p, int n) {
        checkProbability(p);
        return Launch.parallel("dropoutForward", (g, id) -> g.task(id, Dropout::dropoutForward, out, inp, seed, stream, p, n),
                jvm -> jvm.parallelRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Dropout.forwardAt(out, inp, seed, stream, p, i);
                    }
                }));
    }

    /** Adds to dinp. */
    public static Launch backward(FloatArray dinp, FloatArray dout, IntArray seed, int stream, float p, int n) {
        checkProbability(p);
        return Launch.parallel("dropoutBackward", (g, id) -> g.task(id, Dropout::dropoutBackward, dinp, dout, seed, stream, p, n),
                jvm -> jvm.parallelRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Dropout.backwardAt(dinp, dout, seed, stream, p, i);
                    }
                }));
    }

    private static void checkProbability(float p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), not " + p);
        }
    }
}
