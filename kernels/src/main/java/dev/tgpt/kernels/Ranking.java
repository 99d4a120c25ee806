package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The reward model's ranking loss (InstructGPT): P prompts, each with up to K responses ranked best first, every pair
 * of a prompt's responses compared.
 *
 * <pre>
 * rewards [P, K]: prompt p's response i at p·K + i; its first k = counts[p] slots are real; n = k(k − 1)/2 pairs
 * forward:  loss_p = −1/n · Σ_{i<j<k} log σ(r_i − r_j)                              (k &lt; 2: loss 0)
 * backward: dr_i += dloss_p/n · (Σ_{j<i} σ(r_i − r_j) − Σ_{i<j<k} σ(r_j − r_i))        (slots i ≥ k: nothing)
 * log σ(x) = min(x, 0) − log(1 + e),  σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) below,  e = exp(−|x|)
 * </pre>
 *
 * e is in (0, 1], so neither overflows whatever the rewards. Forward runs one work-item per prompt, backward one per
 * slot (each adds only to its own slot). A count above K is read as K. The JVM backend calls the same helpers.
 */
public final class Ranking {

    private Ranking() {
    }

    public static void rankingForward(FloatArray losses, FloatArray rewards, IntArray counts, int P, int K) {
        for (@Parallel int p = 0; p < P; p++) {
            forwardAt(losses, rewards, counts, K, p);
        }
    }

    public static void rankingBackward(FloatArray drewards, FloatArray rewards, IntArray counts, FloatArray dlosses, int P, int K) {
        for (@Parallel int i = 0; i < P * K; i++) {
            backwardAt(drewards, rewards, counts, dlosses, K, i);
        }
    }

    public static void forwardAt(FloatArray losses, FloatArray rewards, IntArray counts, int K, int p) {
        int k = responses(counts, K, p);
        float sum = 0f;
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                sum += logSigmoid(rewards.get(p * K + i) - rewards.get(p * K + j));
            }
        }
        float loss = 0f;
        if (k >= 2) {
            loss = -sum / pairs(k);
        }
        losses.set(p, loss);
    }

    /** Slot s = p·K + i. */
    public static void backwardAt(FloatArray drewards, FloatArray rewards, IntArray counts, FloatArray dlosses, int K, int s) {
        int p = s / K;
        int i = s % K;
        int k = responses(counts, K, p);
        if (k >= 2 && i < k) {
            float ri = rewards.get(s);
            float g = 0f;
            for (int j = 0; j < i; j++) {
                g += sigmoid(ri - rewards.get(p * K + j));
            }
            for (int j = i + 1; j < k; j++) {
                g -= sigmoid(rewards.get(p * K + j) - ri);
            }
            drewards.set(s, drewards.get(s) + dlosses.get(p) * g / pairs(k));
        }
    }

    static int responses(IntArray counts, int K, int p) {
        return TornadoMath.min(counts.get(p), K);
    }

    static float pairs(int k) {
        return k * (k - 1) * 0.5f;
    }

    static float logSigmoid(float x) {
        return TornadoMath.min(x, 0f) - TornadoMath.log(1f + TornadoMath.exp(-TornadoMath.abs(x)));
    }

    static float sigmoid(float x) {
        float e = TornadoMath.exp(-TornadoMath.abs(x));
        float s = 1f / (1f + e);
        return x >= 0f ? s : e * s;
    }
}
