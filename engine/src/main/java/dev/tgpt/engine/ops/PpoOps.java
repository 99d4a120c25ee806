package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Ppo;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link Ppo} over N positions. {@code hyper} is a FloatArray of {@link Ppo#HYPER_SIZE} holding the clip
 * range ε (a program input or state); {@code weights} [N] weighs each position in the mean, 0 where it does not count.
 * The backward launches add the gradient of the weighted sum.
 */
public final class PpoOps {

    private PpoOps() {
    }

    /** objective [N] from the cross-entropy losses [N] (−logp of the sampled tokens). */
    public static Launch policyForward(FloatArray objective, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int N) {
        return Positions.of("policyLossForward", (g, id) -> g.task(id, Ppo::policyLossForward, objective, losses, oldLogp, advantages, weights, hyper, N),
                N, n -> Ppo.policyForwardAt(objective, losses, oldLogp, advantages, weights, hyper, n));
    }

    /** Adds into dlosses, the cross-entropy backward's dloss. */
    public static Launch policyBackward(FloatArray dlosses, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int N) {
        return Positions.of("policyLossBackward", (g, id) -> g.task(id, Ppo::policyLossBackward, dlosses, losses, oldLogp, advantages, weights, hyper, N),
                N, n -> Ppo.policyBackwardAt(dlosses, losses, oldLogp, advantages, weights, hyper, n));
    }

    public static Launch valueForward(FloatArray losses, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int N) {
        return Positions.of("valueLossForward", (g, id) -> g.task(id, Ppo::valueLossForward, losses, values, oldValues, returns, weights, hyper, N),
                N, n -> Ppo.valueForwardAt(losses, values, oldValues, returns, weights, hyper, n));
    }

    /** Adds into dvalues. */
    public static Launch valueBackward(FloatArray dvalues, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int N) {
        return Positions.of("valueLossBackward", (g, id) -> g.task(id, Ppo::valueLossBackward, dvalues, values, oldValues, returns, weights, hyper, N),
                N, n -> Ppo.valueBackwardAt(dvalues, values, oldValues, returns, weights, hyper, n));
    }

    /** entropy [N] of softmax over logits [N, V], given the logSumExp [N] that {@link CrossEntropyOps#forward} wrote. */
    public static Launch entropy(FloatArray entropy, FloatArray logits, FloatArray logSumExp, int N, int V) {
        return Launch.parallel("entropyForward", (g, id) -> g.task(id, Ppo::entropyForward, entropy, logits, logSumExp, N, V),
                jvm -> jvm.parallelFor(N, n -> Ppo.entropyAt(entropy, logits, logSumExp, V, n)));
    }
}
