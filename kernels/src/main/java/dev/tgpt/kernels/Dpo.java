package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * DPO's implicit reward (Rafailov et al. 2023) of each of B rows of T positions, from the cross-entropy kernel's
 * per-position losses (−log π of each target): a row's log-probability is the sum over its response, the positions
 * whose target is a token (≥ 0). β = hyper[{@link #BETA}], a device array so that a new β needs no new kernel.
 *
 * <pre>
 * forward:  r_b = β·(Σ_{t: target ≥ 0} −loss_{b,t} − ref_b)
 * backward: dloss_{b,t} += −β·dr_b  where target_{b,t} ≥ 0        (one work-item per position, each adds to its own)
 * </pre>
 *
 * DPO's loss −log σ(r_chosen − r_rejected) is then {@link Ranking}'s over pairs (K = 2); with β = 1 and ref = 0 the
 * forward gives the log-probabilities themselves (how the reference model's are computed, in the same order of
 * summation). A row sums its T losses in one work-item, in a fixed order: deterministic, and T ≤ 1024 is short. The JVM
 * backend calls the same helpers.
 */
public final class Dpo {

    /** hyper[BETA] = β. */
    public static final int BETA = 0;
    public static final int HYPER_SIZE = 1;
    /**
     * A row's losses are summed in chunks of this many, then the chunks: float32 rounding grows with the terms in one
     * sum, and a log-probability of hundreds of tokens is a difference of two such sums away from a reward of order 1.
     */
    static final int CHUNK = 64;

    private Dpo() {
    }

    public static void rewardsForward(FloatArray rewards, FloatArray losses, IntArray targets, FloatArray ref, FloatArray hyper, int B, int T) {
        for (@Parallel int b = 0; b < B; b++) {
            forwardAt(rewards, losses, targets, ref, hyper, T, b);
        }
    }

    public static void rewardsBackward(FloatArray dlosses, FloatArray drewards, IntArray targets, FloatArray hyper, int B, int T) {
        for (@Parallel int n = 0; n < B * T; n++) {
            backwardAt(dlosses, drewards, targets, hyper, T, n);
        }
    }

    public static void forwardAt(FloatArray rewards, FloatArray losses, IntArray targets, FloatArray ref, FloatArray hyper, int T, int b) {
        float logp = 0f;
        for (int c = 0; c < T; c += CHUNK) {
            float chunk = 0f;
            int end = TornadoMath.min(c + CHUNK, T);
            for (int t = c; t < end; t++) {
                if (targets.get(b * T + t) >= 0) {
                    chunk -= losses.get(b * T + t);
                }
            }
            logp += chunk;
        }
        rewards.set(b, hyper.get(BETA) * (logp - ref.get(b)));
    }

    public static void backwardAt(FloatArray dlosses, FloatArray drewards, IntArray targets, FloatArray hyper, int T, int n) {
        if (targets.get(n) >= 0) {
            dlosses.set(n, dlosses.get(n) - hyper.get(BETA) * drewards.get(n / T));
        }
    }
}
