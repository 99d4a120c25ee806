package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Rollout;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Rollout}: B sequences of T tokens in {@code seq}, decoded at the position held in {@code pos}
 * (the array {@link DecodeOps} reads). A rollout runs {@link #start} once, then per position {@link #input}, the
 * decoder, {@link #sample} and {@link #advance}. {@code seed} is an IntArray[1] and {@code hyper} a FloatArray of
 * {@link Rollout#HYPER_SIZE} holding the temperature, both program inputs.
 */
public final class RolloutOps {

    private RolloutOps() {
    }

    /** seq = prompts over the first n = B·T tokens (the host's prompts, padded to T), and every pos[b] = 0. */
    public static Launch start(IntArray seq, IntArray pos, IntArray prompts, int n, int T) {
        return Launch.parallel("rolloutStart", (g, id) -> g.task(id, Rollout::rolloutStart, seq, pos, prompts, n, T),
                jvm -> jvm.parallelRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        Rollout.startAt(seq, pos, prompts, T, i);
                    }
                }));
    }

    /** tokens [B] = each sequence's token at the decode position. */
    public static Launch input(IntArray tokens, IntArray seq, IntArray pos, int B, int T) {
        return Launch.parallel("rolloutInput", (g, id) -> g.task(id, Rollout::rolloutInput, tokens, seq, pos, B, T),
                jvm -> jvm.parallelRange(B, (from, to) -> {
                    for (int b = from; b < to; b++) {
                        Rollout.inputAt(tokens, seq, pos, T, b);
                    }
                }));
    }

    /** Draws each sequence's next token from logits [B, V]; eos (a vocabulary id) ends a sequence and pads it. */
    public static Launch sample(IntArray seq, FloatArray logits, IntArray promptLengths, IntArray pos, IntArray seed, FloatArray hyper, int B,
            int T, int V, int eos) {
        if (eos < 0 || eos >= V) {
            throw new IllegalArgumentException("the end-of-sequence token must be in the vocabulary [0, " + V + "), not " + eos);
        }
        return Launch.parallel("rolloutSample",
                (g, id) -> g.task(id, Rollout::rolloutSample, seq, logits, promptLengths, pos, seed, hyper, B, T, V, eos),
                jvm -> jvm.parallelFor(B, b -> Rollout.sampleAt(seq, logits, promptLengths, pos, seed, hyper, T, V, eos, b)));
    }

    public static Launch advance(IntArray pos, int B) {
        return Launch.parallel("rolloutAdvance", (g, id) -> g.task(id, Rollout::rolloutAdvance, pos, B), jvm -> Rollout.rolloutAdvance(pos, B));
    }
}
