package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * PPO's per-token losses (Schulman et al. 2017, as InstructGPT trains its policy and its value function), over N = B·T
 * positions. w = weights[n] is a position's weight in the mean (1/count for a response token, 0 elsewhere); the clip
 * range ε = hyper[{@link #CLIP}], a device array so that a new ε needs no new kernel.
 *
 * <pre>
 * policy:  logp = −loss_n (the cross-entropy kernel's loss of the sampled token),  r = exp(logp − oldLogp_n)
 *          objective_n = w·max(−A·r, −A·clamp(r, 1 − ε, 1 + ε))
 *          dloss_n += w·A·r where −A·r ≥ −A·clamp(r, ..), else 0                     (d/dloss = −d/dlogp)
 * value:   vclip = clamp(v, old − ε, old + ε)  (= old + clamp(v − old, −ε, ε), and exactly v inside the range)
 *          loss_n = w·½·max((v − R)², (vclip − R)²)
 *          dv_n += w·(v − R) where (v − R)² ≥ (vclip − R)², else 0
 * entropy: H_n = lse_n − Σ_v p_v·z_v = G/S + log S,  S = Σ_v e_v,  G = Σ_v e_v·(lse_n − z_v),  e_v = exp(z_v − lse_n)
 *          (S = 1 and p = e for the exact lse; forward only: it is logged)
 * </pre>
 *
 * Where a clipped term is strictly the larger, r (or v) is outside its clip range, where clamp is constant: inside,
 * clamp is the identity and the terms tie, and the tie takes the unclipped branch. So the clipped branch has no
 * gradient. A position with w = 0 writes exactly 0 and adds nothing, whatever its inputs: a masked position's ratio
 * may overflow, and 0·∞ would be NaN. lse_n is what {@link CrossEntropy}'s forward stores, log Σ_v exp(z_v) of the
 * raw logits. G/S + log S is the entropy for any shift in place of lse_n, so the rounding of lse_n (half an ulp of
 * |lse|: 4e-6 for GPT-2's logits near −100) cancels, and its terms are positive, so large logits cancel nothing. The
 * JVM backend calls the same helpers.
 */
public final class Ppo {

    /** hyper[CLIP] = ε. */
    public static final int CLIP = 0;
    public static final int HYPER_SIZE = 1;
    /**
     * The entropy's sums run over chunks of this many logits, each summed apart: float rounding grows with the square
     * root of the terms in one sum, and G/S carries it whole (6.6e-6 of H summed straight through V = 50,257 in a check, 4e-7 so).
     */
    static final int CHUNK = 64;

    private Ppo() {
    }

    public static void policyLossForward(FloatArray objective, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            policyForwardAt(objective, losses, oldLogp, advantages, weights, hyper, n);
        }
    }

    public static void policyLossBackward(FloatArray dlosses, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            policyBackwardAt(dlosses, losses, oldLogp, advantages, weights, hyper, n);
        }
    }

    public static void valueLossForward(FloatArray losses, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            valueForwardAt(losses, values, oldValues, returns, weights, hyper, n);
        }
    }

    public static void valueLossBackward(FloatArray dvalues, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int N) {
        for (@Parallel int n = 0; n < N; n++) {
            valueBackwardAt(dvalues, values, oldValues, returns, weights, hyper, n);
        }
    }

    /** One work-item per row of V logits. */
    public static void entropyForward(FloatArray entropy, FloatArray logits, FloatArray logSumExp, int N, int V) {
        for (@Parallel int n = 0; n < N; n++) {
            entropyAt(entropy, logits, logSumExp, V, n);
        }
    }

    public static void policyForwardAt(FloatArray objective, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int n) {
        float w = weights.get(n);
        float o = 0f;
        if (w != 0f) {
            float a = advantages.get(n);
            float r = ratio(losses, oldLogp, n);
            o = w * TornadoMath.max(-a * r, -a * clipRatio(r, hyper));
        }
        objective.set(n, o);
    }

    public static void policyBackwardAt(FloatArray dlosses, FloatArray losses, FloatArray oldLogp, FloatArray advantages, FloatArray weights,
            FloatArray hyper, int n) {
        float w = weights.get(n);
        if (w != 0f) {
            float a = advantages.get(n);
            float r = ratio(losses, oldLogp, n);
            if (-a * r >= -a * clipRatio(r, hyper)) {
                dlosses.set(n, dlosses.get(n) + w * a * r);
            }
        }
    }

    public static void valueForwardAt(FloatArray losses, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int n) {
        float w = weights.get(n);
        float l = 0f;
        if (w != 0f) {
            float d = values.get(n) - returns.get(n);
            float dc = clipValue(values, oldValues, hyper, n) - returns.get(n);
            l = w * 0.5f * TornadoMath.max(d * d, dc * dc);
        }
        losses.set(n, l);
    }

    public static void valueBackwardAt(FloatArray dvalues, FloatArray values, FloatArray oldValues, FloatArray returns, FloatArray weights,
            FloatArray hyper, int n) {
        float w = weights.get(n);
        if (w != 0f) {
            float d = values.get(n) - returns.get(n);
            float dc = clipValue(values, oldValues, hyper, n) - returns.get(n);
            if (d * d >= dc * dc) {
                dvalues.set(n, dvalues.get(n) + w * d);
            }
        }
    }

    public static void entropyAt(FloatArray entropy, FloatArray logits, FloatArray logSumExp, int V, int n) {
        float lse = logSumExp.get(n);
        float s = 0f;
        float g = 0f;
        for (int c = 0; c < V; c += CHUNK) {
            float sc = 0f;
            float gc = 0f;
            int end = TornadoMath.min(c + CHUNK, V);
            for (int v = c; v < end; v++) {
                float gap = lse - logits.get(n * V + v);
                float e = TornadoMath.exp(-gap);
                sc += e;
                gc += e * gap;
            }
            s += sc;
            g += gc;
        }
        entropy.set(n, g / s + TornadoMath.log(s));
    }

    static float ratio(FloatArray losses, FloatArray oldLogp, int n) {
        return TornadoMath.exp(-losses.get(n) - oldLogp.get(n));
    }

    static float clipRatio(float r, FloatArray hyper) {
        float eps = hyper.get(CLIP);
        return TornadoMath.min(TornadoMath.max(r, 1f - eps), 1f + eps);
    }

    static float clipValue(FloatArray values, FloatArray oldValues, FloatArray hyper, int n) {
        float eps = hyper.get(CLIP);
        float old = oldValues.get(n);
        return TornadoMath.min(TornadoMath.max(values.get(n), old - eps), old + eps);
    }
}
