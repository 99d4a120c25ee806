package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.tgpt.engine.Program;
import dev.tgpt.engine.ops.RolloutOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Trainer;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * PPO's rollouts, generated on the device with the KV cache: the policy's parameters are the trainer's own (the
 * programs open in the trainer's session), the next token is drawn on the device from the full softmax at
 * temperature 1 (the distribution PPO then scores, so the KL estimate cannot go negative through top-k or top-p), and
 * it goes straight into the sequence buffer that the next position reads. Per token the host launches one graph,
 * with nothing copied out; the sequences come back once, at the end.
 */
final class Rollouts {

    final int B;
    final int T;
    final int eos;
    private final IntArray prompts;
    private final IntArray promptLengths;
    /** The run's seed, and the stream of this batch's first row in the whole batch (a data-parallel rank's rows come later). */
    private final IntArray seed = new IntArray(2);
    private final FloatArray temperature = new FloatArray(1);
    private final IntArray seq;
    final Program start;
    final Program step;

    /** B sequences of at most T tokens from the policy (its parameters; dropout off); this batch's row 0 is row {@code firstRow} of the whole. */
    Rollouts(Gpt policy, int B, int T, int eos, int firstRow) {
        this.B = B;
        this.T = T;
        this.eos = eos;
        Gpt exact = policy.withoutDropout();
        Gpt.Activations dec = exact.decoder(B);
        prompts = new IntArray(B * T);
        promptLengths = new IntArray(B);
        seq = new IntArray(B * T);
        temperature.set(0, 1f);
        seed.set(1, firstRow * T);
        List<Object> state = new ArrayList<>();
        state.addAll(policy.weightArrays());
        state.addAll(dec.buffers());
        state.addAll(List.of(dec.tokens, dec.pos, seq));
        Object[] shared = state.toArray();
        start = new Program("rolloutStart").state(shared).inputs(prompts).add(RolloutOps.start(seq, dec.pos, prompts, B * T, T));
        step = new Program("rolloutStep").state(shared).inputs(promptLengths, seed, temperature);
        step.add(RolloutOps.input(dec.tokens, seq, dec.pos, B, T));
        exact.forward(dec, false).forEach(step::add);
        step.add(RolloutOps.sample(seq, dec.logits, promptLengths, dec.pos, seed, temperature, B, T, policy.config.vocabSize(), eos));
        step.add(RolloutOps.advance(dec.pos, B));
    }

    /** Samples a response to each prompt (B of them, each at most T − 1 tokens) until its end token or position T − 1. */
    List<Sequences> generate(Trainer host, List<int[]> promptTokens, int runSeed) {
        prompts.clear();
        for (int b = 0; b < B; b++) {
            int[] p = promptTokens.get(b);
            for (int t = 0; t < p.length; t++) {
                prompts.set(b * T + t, p[t]);
            }
            promptLengths.set(b, p.length);
        }
        seed.set(0, runSeed);
        host.run(start);
        for (int t = 0; t < T - 1; t++) {
            host.run(step);
        }
        host.read(seq);
        List<Sequences> out = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            int p = promptLengths.get(b);
            int end = p;
            while (end < T - 1 && seq.get(b * T + end) != eos) {
                end++;
            }
            int[] tokens = new int[end + 1];
            for (int t = 0; t <= end; t++) {
                tokens[t] = seq.get(b * T + t);
            }
            out.add(new Sequences(tokens, p));
        }
        return out;
    }

    /** Whether a generated response reached its end token. */
    boolean ended(Sequences s) {
        return s.tokens()[s.last()] == eos && s.last() >= s.promptLength();
    }

    static int[] responseTokens(Sequences s) {
        return Arrays.copyOfRange(s.tokens(), s.promptLength(), s.tokens().length);
    }
}
