package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Dpo;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Dpo} over B rows of T positions: {@code losses} and {@code targets} [B·T] as the cross-entropy
 * kernel has them, {@code ref} [B] the reference's log-probabilities, {@code hyper} a FloatArray of
 * {@link Dpo#HYPER_SIZE} holding β.
 */
public final class DpoOps {

    private DpoOps() {
    }

    /** rewards [B]: β·(log π − ref) of each row. */
    public static Launch rewards(FloatArray rewards, FloatArray losses, IntArray targets, FloatArray ref, FloatArray hyper, int B, int T) {
        return Positions.of("dpoRewardsForward", (g, id) -> g.task(id, Dpo::rewardsForward, rewards, losses, targets, ref, hyper, B, T), B,
                b -> Dpo.forwardAt(rewards, losses, targets, ref, hyper, T, b));
    }

    /** Adds d rewards / d losses · drewards into dlosses, the cross-entropy backward's dloss. */
    public static Launch backward(FloatArray dlosses, FloatArray drewards, IntArray targets, FloatArray hyper, int B, int T) {
        return Positions.of("dpoRewardsBackward", (g, id) -> g.task(id, Dpo::rewardsBackward, dlosses, drewards, targets, hyper, B, T), B * T,
                n -> Dpo.backwardAt(dlosses, drewards, targets, hyper, T, n));
    }
}
