package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Grpo;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link Grpo} over N positions: {@code losses} [N] as the cross-entropy kernel has them, {@code refLogp}
 * [N] the reference's log-probability of each token, {@code weights} [N] each position's weight in the mean,
 * {@code hyper} a FloatArray of {@link Grpo#HYPER_SIZE} holding β.
 */
public final class GrpoOps {

    private GrpoOps() {
    }

    /** kl [N]: each position's weighted k3 penalty. */
    public static Launch klForward(FloatArray kl, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int N) {
        return Positions.of("grpoKlForward", (g, id) -> g.task(id, Grpo::klForward, kl, losses, refLogp, weights, hyper, N), N,
                n -> Grpo.forwardAt(kl, losses, refLogp, weights, hyper, n));
    }

    /** Adds into dlosses, the cross-entropy backward's dloss. */
    public static Launch klBackward(FloatArray dlosses, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int N) {
        return Positions.of("grpoKlBackward", (g, id) -> g.task(id, Grpo::klBackward, dlosses, losses, refLogp, weights, hyper, N), N,
                n -> Grpo.backwardAt(dlosses, losses, refLogp, weights, hyper, n));
    }
}
