package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.CrossEntropy;
import dev.tgpt.kernels.CrossEntropyVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link CrossEntropy} over logits [N, V] and targets [N] (negative: ignored). Forward writes losses [N]
 * and logSumExp [N], which backward reads.
 */
public final class CrossEntropyOps {

    private CrossEntropyOps() {
    }

    public static Launch forward(FloatArray losses, FloatArray logSumExp, FloatArray logits, IntArray targets, int N, int V) {
        return Launch.groups("crossEntropyForward", N, CrossEntropy.GROUP,
                (g, id, ctx) -> g.task(id, CrossEntropy::crossEntropyForward, ctx, losses, logSumExp, logits, targets, V),
                jvm -> jvm.parallelFor(N, row -> CrossEntropyVector.forward(losses, logSumExp, logits, targets, row, V)));
    }

    /** Adds (softmax − onehot)·dloss to dlogits; dloss [N] is the gradient of the total loss with respect to each row's loss. */
    public static Launch backward(FloatArray dlogits, FloatArray logits, FloatArray logSumExp, IntArray targets, FloatArray dloss, int N,
            int V) {
        return Launch.parallel("crossEntropyBackward",
                (g, id) -> g.task(id, CrossEntropy::crossEntropyBackward, dlogits, logits, logSumExp, targets, dloss, N, V),
                jvm -> jvm.parallelFor(N, row -> CrossEntropyVector.backward(dlogits, logits, logSumExp, targets, dloss, row, V)));
    }
}
