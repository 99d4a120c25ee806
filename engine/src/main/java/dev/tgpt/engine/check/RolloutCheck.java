package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.ops.RolloutOps;
import dev.tgpt.kernels.Rollout;
import dev.tgpt.kernels.RolloutReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Sampling on the device against {@link RolloutReference}, as a rollout runs it: one program starts the rollout, one
 * compiled step program runs every position (input, sample, advance; the logits, a program input, stand for the
 * decoder's), and one more step past the end must change nothing. Prompts have lengths 1..T − 2; sequence 0's eos
 * logit is raised at its first draw, so that it likely ends there and must be padded with eos where the later logits
 * would rarely give it; sequence 1's prompt ends with eos, which must not end it. Checks:
 * <ul>
 * <li>forward: every token fed and every token of the final sequences equals the reference's, at temperatures 1, 0.7
 * and 0 (argmax); allow 0 differing tokens. A draw is an argmax of logit + τ·noise, whose top two differ by O(1), so
 * float32 rounding (~1e-6) flips one with a probability of about 1e-6.
 * <li>distribution: B = 20,000 sequences share one row of V = 11 logits, each its own draw (its own hash stream); the
 * counts against softmax(logits/τ) by Pearson's χ² with 10 degrees of freedom, which a correct sampler exceeds
 * 35.56 with probability 1e-4 (every expected count is above 100).
 * </ul>
 */
public final class RolloutCheck implements OpCheck {

    /** { B, T, V, eos }. */
    static final int[][] SHAPES = { { 3, 9, 65, 64 }, { 5, 12, 7, 0 }, { 2, 6, 50257, 50256 } };
    static final float[] TEMPERATURES = { 1f, 0.7f, 0f };
    static final int DRAWS = 20_000;
    static final int CATEGORIES = 11;
    /** χ² with 10 degrees of freedom exceeds this with probability 1e-4. */
    static final double CHI_SQUARE = 35.56;

    @Override
    public String op() {
        return "rollout";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(29);
        for (int[] s : SHAPES) {
            for (float temperature : TEMPERATURES) {
                results.add(new CheckResult(op(), "forward", "B=" + s[0] + " T=" + s[1] + " V=" + s[2] + " temp=" + temperature,
                        differing(backend, r, s[0], s[1], s[2], s[3], temperature), 0));
            }
        }
        for (float temperature : new float[] { 1f, 0.7f }) {
            results.add(new CheckResult(op(), "distribution", "B=" + DRAWS + " V=" + CATEGORIES + " temp=" + temperature,
                    chiSquare(backend, r, temperature), CHI_SQUARE));
        }
        return results;
    }

    /** Tokens of a rollout on the backend that differ from the reference's. */
    private static double differing(Backend backend, Random r, int B, int T, int V, int eos, float temperature) {
        int[] lengths = new int[B];
        int[] prompts = new int[B * T];
        for (int b = 0; b < B; b++) {
            lengths[b] = b == 0 ? 1 : 1 + r.nextInt(T - 2);
            for (int t = 0; t < T; t++) {
                prompts[b * T + t] = t < lengths[b] ? r.nextInt(V) : -1;
            }
        }
        prompts[T + lengths[1] - 1] = eos;
        int seed = r.nextInt();
        Run rollout = new Run(B, T, V, eos, prompts, lengths, seed, temperature);
        int[] want = prompts.clone();
        int count = 0;
        try (Session session = backend.open(rollout.start, rollout.step)) {
            session.run(rollout.start);
            for (int p = 0; p < T; p++) {
                for (int i = 0; i < B * V; i++) {
                    rollout.logits.set(i, (2 * r.nextFloat() - 1) * 2f);
                }
                if (p == 0) {
                    rollout.logits.set(eos, rollout.logits.get(eos) + (V > 1000 ? 12f : 8f));
                }
                session.run(rollout.step);
                for (int b = 0; b < B; b++) {
                    count += rollout.tokens.get(b) != want[b * T + p] ? 1 : 0;
                }
                RolloutReference.step(want, Checks.toDouble(rollout.logits), lengths, p, seed, temperature, B, T, V, eos);
            }
        }
        for (int i = 0; i < B * T; i++) {
            count += rollout.seq.get(i) != want[i] ? 1 : 0;
        }
        return count;
    }

    /** Pearson's χ² of DRAWS single draws, one per sequence, from one row of logits, against softmax(logits/τ). */
    private static double chiSquare(Backend backend, Random r, float temperature) {
        int B = DRAWS;
        int V = CATEGORIES;
        FloatArray row = Checks.random(r, V, 1f);
        int[] lengths = new int[B];
        Arrays.fill(lengths, 1);
        Run rollout = new Run(B, 2, V, 0, new int[B * 2], lengths, r.nextInt(), temperature);
        for (int i = 0; i < B * V; i++) {
            rollout.logits.set(i, row.get(i % V));
        }
        try (Session session = backend.open(rollout.start, rollout.step)) {
            session.run(rollout.start);
            session.run(rollout.step);
        }
        int[] counts = new int[V];
        for (int b = 0; b < B; b++) {
            counts[rollout.seq.get(b * 2 + 1)]++;
        }
        double[] p = new double[V];
        double sum = 0;
        for (int v = 0; v < V; v++) {
            p[v] = Math.exp(row.get(v) / (double) temperature);
            sum += p[v];
        }
        double chi = 0;
        for (int v = 0; v < V; v++) {
            double expected = B * p[v] / sum;
            chi += (counts[v] - expected) * (counts[v] - expected) / expected;
        }
        return chi;
    }

    /** The arrays and programs of one rollout: start, then a step per position. */
    private static final class Run {
        final IntArray seq;
        final IntArray tokens;
        final FloatArray logits;
        final Program start;
        final Program step;

        Run(int B, int T, int V, int eos, int[] prompts, int[] lengths, int seed, float temperature) {
            seq = new IntArray(B * T);
            IntArray pos = new IntArray(B);
            IntArray promptArray = IntArray.fromArray(prompts);
            IntArray promptLengths = IntArray.fromArray(lengths);
            IntArray seedArray = IntArray.fromArray(new int[] { seed, 0 });
            FloatArray hyper = new FloatArray(Rollout.HYPER_SIZE);
            hyper.set(Rollout.TEMPERATURE, temperature);
            tokens = new IntArray(B);
            logits = new FloatArray(B * V);
            start = new Program("rolloutStart").state(seq, pos).inputs(promptArray).add(RolloutOps.start(seq, pos, promptArray, B * T, T));
            step = new Program("rolloutStep").state(seq, pos).inputs(logits, promptLengths, seedArray, hyper).outputs(tokens, seq)
                    .add(RolloutOps.input(tokens, seq, pos, B, T))
                    .add(RolloutOps.sample(seq, logits, promptLengths, pos, seedArray, hyper, B, T, V, eos))
                    .add(RolloutOps.advance(pos, B));
        }
    }
}
