package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Ranking;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Ranking}: the reward model's loss over rewards [P, K] (P prompts, K responses each, best first),
 * {@code counts} [P] real responses per prompt (a device array: it changes every batch).
 */
public final class RankingOps {

    private RankingOps() {
    }

    public static Launch forward(FloatArray losses, FloatArray rewards, IntArray counts, int P, int K) {
        return Positions.of("rankingForward", (g, id) -> g.task(id, Ranking::rankingForward, losses, rewards, counts, P, K), P,
                p -> Ranking.forwardAt(losses, rewards, counts, K, p));
    }

    /** Adds into drewards; dlosses [P] is the gradient of the total loss with respect to each prompt's loss. */
    public static Launch backward(FloatArray drewards, FloatArray rewards, IntArray counts, FloatArray dlosses, int P, int K) {
        return Positions.of("rankingBackward", (g, id) -> g.task(id, Ranking::rankingBackward, drewards, rewards, counts, dlosses, P, K), P * K,
                i -> Ranking.backwardAt(drewards, rewards, counts, dlosses, K, i));
    }
}
