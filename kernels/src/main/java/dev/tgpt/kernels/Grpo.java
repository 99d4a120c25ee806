package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GRPO's penalty on the policy's distance from the reference (Shao et al. 2024, DeepSeekMath §4.1), per token over N =
 * B·T positions: Schulman's k3 estimator of KL(π ‖ π_ref), unbiased and never negative, as TRL's GRPOTrainer adds it
 * to the clipped objective ({@link Ppo}). w = weights[n] is a position's weight in the mean (0 where it does not
 * count); β = hyper[{@link #BETA}], a device array so that a new β needs no new kernel.
 *
 * <pre>
 * logp = −loss_n (the cross-entropy kernel's loss of the sampled token),  d = ref_n − logp
 * forward:  kl_n = w·β·(e^d − d − 1)
 * backward: dloss_n += w·β·(e^d − 1)                            (d/dloss = −d/dlogp, and d/dlogp (e^d − d − 1) = 1 − e^d)
 * </pre>
 *
 * Small d are summed as series ({@link #SERIES}). A position with w = 0 writes exactly 0 and adds nothing, whatever its inputs (a masked position's e^d may overflow,
 * and 0·∞ would be NaN). The JVM backend calls the same helpers.
 */
public final class Grpo {

    /** hyper[BETA] = β. */
    public static final int BETA = 0;
    public static final int HYPER_SIZE = 1;
    /**
     * Below this |d| the penalty and its gradient come from their Taylor series: e^d − d − 1 is ~d²/2 and float32's
     * e^d carries an error of ~6e-8 absolute, which the subtraction would leave as a relative error of ~1e-7/d²
     * (a policy near its reference, where most tokens are). The series' first omitted term is then at most 1e-6 of
     * the value.
     */
    static final float SERIES = 0.5f;

    private Grpo() {
    }

    public static void klForward(FloatArray kl, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            forwardAt(kl, losses, refLogp, weights, hyper, n);
        }
    }

    public static void klBackward(FloatArray dlosses, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            backwardAt(dlosses, losses, refLogp, weights, hyper, n);
        }
    }

    /** e^d − d − 1 without cancellation: its Taylor series (to d^7) where |d| < {@link #SERIES}. */
    static float k3(float d) {
        if (TornadoMath.abs(d) < SERIES) {
            return d * d * (0.5f + d * (1f / 6 + d * (1f / 24 + d * (1f / 120 + d * (1f / 720 + d * (1f / 5040))))));
        }
        return TornadoMath.exp(d) - d - 1f;
    }

    /** e^d − 1 without cancellation: its Taylor series (to d^7) where |d| < {@link #SERIES}. */
    static float expm1(float d) {
        if (TornadoMath.abs(d) < SERIES) {
            return d * (1f + d * (0.5f + d * (1f / 6 + d * (1f / 24 + d * (1f / 120 + d * (1f / 720 + d * (1f / 5040)))))));
        }
        return TornadoMath.exp(d) - 1f;
    }

    public static void forwardAt(FloatArray kl, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int n) {
        float w = weights.get(n);
        float k = 0f;
        if (w != 0f) {
            k = w * hyper.get(BETA) * k3(refLogp.get(n) + losses.get(n));
        }
        kl.set(n, k);
    }

    public static void backwardAt(FloatArray dlosses, FloatArray losses, FloatArray refLogp, FloatArray weights, FloatArray hyper, int n) {
        float w = weights.get(n);
        if (w != 0f) {
            dlosses.set(n, dlosses.get(n) + w * hyper.get(BETA) * expm1(refLogp.get(n) + losses.get(n)));
        }
    }
}
