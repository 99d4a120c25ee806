package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Sampling on the device, so that a PPO rollout decodes with the KV cache ({@link Decode}) and no per-token round trip
 * to the host. seq [B, T] holds each sequence's tokens, its prompt first (from the host); pos[b] is the decode
 * position that {@link Decode}'s kernels read (the same for every sequence of a rollout); a step runs rolloutInput,
 * the decoder, rolloutSample, rolloutAdvance.
 *
 * <pre>
 * input:  tokens[b] = seq[b, p],  p = pos[b]
 * sample: t = p + 1, for sequences with promptLengths[b] ≤ t &lt; T:
 *         seq[b, t] = eos                                      if the sequence already ended (a generated eos at t − 1)
 *                   = argmax_v z_v + τ·g_v                     otherwise, z = logits[b], τ = hyper[0] (0: argmax)
 *         g_v = −log(−log(1 − u_v)), u_v uniform in (0, 1) from the hash of (seed[0], stream b·T + t + seed[1], v)
 *         (seed[1]: the first row's b·T in the whole batch, for a data-parallel rank whose rows come after others')
 * </pre>
 *
 * argmax_v z_v/τ + g_v with independent Gumbel noise g_v is a draw from softmax(z/τ), the full distribution, as PPO
 * scores it (the Gumbel-max trick); multiplying by τ keeps the argmax and makes τ = 0 the greedy choice. It replaces an
 * inverse CDF: that compares u with running sums of V float terms whose rounding (~1e-5 of the total at V = 50,257)
 * is about one token's share, so a float kernel and a reference disagreed on 16 of 400 draws there. An argmax
 * compares noisy scores whose gap is O(1), and its index is in [0, V) by construction. The noise comes from
 * {@link Dropout#hash}, the codebase's one hash, so a seed and position give the same tokens on every backend and in
 * {@link RolloutReference}. The JVM backend calls the same helpers.
 */
public final class Rollout {

    /** hyper[TEMPERATURE] = τ. */
    public static final int TEMPERATURE = 0;
    public static final int HYPER_SIZE = 1;

    private Rollout() {
    }

    /** seq = prompts for the first n = B·T tokens; pos[b] = 0. */
    public static void rolloutStart(IntArray seq, IntArray pos, IntArray prompts, int n, int T) {
        for (@Parallel int i = 0; i < n; i++) {
            startAt(seq, pos, prompts, T, i);
        }
    }

    public static void rolloutInput(IntArray tokens, IntArray seq, IntArray pos, int B, int T) {
        for (@Parallel int b = 0; b < B; b++) {
            inputAt(tokens, seq, pos, T, b);
        }
    }

    /** One work-item per sequence; reads the logits of position pos[b], writes position pos[b] + 1. */
    public static void rolloutSample(IntArray seq, FloatArray logits, IntArray promptLengths, IntArray pos, IntArray seed, FloatArray hyper,
            int B, int T, int V, int eos) {
        for (@Parallel int b = 0; b < B; b++) {
            sampleAt(seq, logits, promptLengths, pos, seed, hyper, T, V, eos, b);
        }
    }

    /** pos[b] += 1 for each of the B sequences. */
    public static void rolloutAdvance(IntArray pos, int B) {
        for (@Parallel int b = 0; b < B; b++) {
            pos.set(b, pos.get(b) + 1);
        }
    }

    public static void startAt(IntArray seq, IntArray pos, IntArray prompts, int T, int i) {
        seq.set(i, prompts.get(i));
        if (i % T == 0) {
            pos.set(i / T, 0);
        }
    }

    public static void inputAt(IntArray tokens, IntArray seq, IntArray pos, int T, int b) {
        tokens.set(b, seq.get(b * T + pos.get(b)));
    }

    public static void sampleAt(IntArray seq, FloatArray logits, IntArray promptLengths, IntArray pos, IntArray seed, FloatArray hyper, int T,
            int V, int eos, int b) {
        int t = pos.get(b) + 1;
        int first = promptLengths.get(b);
        if (t < T && t >= first) {
            // ended: it generated eos at t − 1 (an eos in the prompt does not count). Both sides are evaluated (&): from
            // `t − 1 < first || ... != eos` around the draw, TornadoVM 5.2 emitted OpenCL that wrote eos, then drew
            // anyway (docs/design.md).
            boolean ended = t > first & seq.get(b * T + t - 1) == eos;
            int token = eos; // padding after the end
            if (!ended) {
                token = draw(logits, b * V, seed.get(0), stream(b, t, T) + seed.get(1), hyper.get(TEMPERATURE), V);
            }
            seq.set(b * T + t, token);
        }
    }

    /** The hash stream of the draw for sequence b at position t: one per draw of a rollout. */
    public static int stream(int b, int t, int T) {
        return b * T + t;
    }

    /** argmax_v logits[base + v] + τ·g_v; the first on ties. */
    static int draw(FloatArray logits, int base, int seed, int stream, float temperature, int V) {
        int best = 0;
        float bestScore = logits.get(base) + temperature * gumbel(uniform(seed, stream, 0));
        for (int v = 1; v < V; v++) {
            float score = logits.get(base + v) + temperature * gumbel(uniform(seed, stream, v));
            if (score > bestScore) {
                best = v;
                bestScore = score;
            }
        }
        return best;
    }

    /** Uniform in (0, 1): an odd multiple of 2^-24 from the hash's top 23 bits, so exact in float, never 0 or 1. */
    public static float uniform(int seed, int stream, int v) {
        return (2 * Dropout.shiftRightUnsigned(Dropout.hash(seed, stream, v), 9) + 1) * 0x1p-24f;
    }

    /**
     * −log(E), E = −log(1 − u): Gumbel noise from u uniform in (0, 1). Where u is small, so is E; the noise is then
     * large and the token likely wins, and a relaxed-math device's log near 1 has an absolute error (≤ 2^-21 in OpenCL)
     * as large as E: so for u &lt; 1/16 E comes from its series u + u²/2 + ... + u⁵/5 (the rest is below 2e-7 of E).
     * 1 − u is exact, so no other rounding reaches E.
     */
    public static float gumbel(float u) {
        float e = -TornadoMath.log(1f - u);
        if (u < 0.0625f) {
            e = u * (1f + u * (0.5f + u * (1f / 3f + u * (0.25f + u * 0.2f))));
        }
        return -TornadoMath.log(e);
    }
}
