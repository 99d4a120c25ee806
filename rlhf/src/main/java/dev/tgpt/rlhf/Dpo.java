package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingLoop;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.rlhf.data.Comparison;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Direct preference optimisation (Rafailov et al. 2023): the policy learns from preference pairs with no reward model
 * and no sampling, loss −log σ(β·[(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))]). The
 * reference is the starting model: its log-probabilities of every pair are computed once, before the first step (so
 * no second copy of the weights is kept while training). A ranking of K responses counts as its C(K, 2) pairs. Each
 * step takes P pairs (2P rows) a rank; metrics.jsonl as TRL names them: loss, rewards/chosen, rewards/rejected,
 * rewards/margins, rewards/accuracies, logps/chosen, logps/rejected, and val_ of loss, margins and accuracies on the
 * held-out pairs. Writes OUT/checkpoint.
 */
public final class Dpo {

    /** @param pairs preference pairs per batch on each rank */
    public record Settings(Trainer.Options trainer, int pairs, float beta, int evalEvery, Path out) {
    }

    public record Result(int steps, float loss, float valLoss, float valAccuracy, Path checkpoint) {
    }

    /** A prompt's preferred and dispreferred response, as rows. */
    record Pair(Sequences chosen, Sequences rejected) {
    }

    private Dpo() {
    }

    public static Result train(Gpt model, Tokenizer tokenizer, List<Comparison> train, List<Comparison> val, Backend backend, Settings s,
            TrainingRun.Listener listener) {
        Trainer.Options o = s.trainer().batch(2 * s.pairs());
        int T = o.context();
        int P = s.pairs();
        Collective world = o.world();
        List<Pair> pairs = pairs(tokenizer, train, T);
        List<Pair> valPairs = pairs(tokenizer, val, T);
        Collections.shuffle(pairs, new Random(o.seed()));
        TrainingLoop.listener(listener, world).message(String.format("DPO: %d preference pairs, %d held out; the reference's log-probabilities first",
                pairs.size(), valPairs.size()));
        float[] ref = referenceLogps(model, backend, pairs, P, T, world);
        float[] valRef = referenceLogps(model, backend, valPairs, P, T, world);
        DpoHead head = new DpoHead(P, s.beta());
        float[] figures = { Float.NaN, Float.NaN, Float.NaN };
        Path ckpt = TrainingRun.checkpointDir(s.out());
        try (Trainer trainer = new Trainer(model, backend, o, head)) {
            int[] next = { 0 };
            TrainingLoop.Job job = new TrainingLoop.Job() {
                @Override
                public void step(int step, Map<String, Object> record) {
                    // rank r takes pairs r·P.. of each batch of ranks·P
                    double[] stats = new double[Stats.SIZE];
                    int from = next[0] + world.rank() * P;
                    trainer.trainStep(List.of(new Trainer.MicroBatch() {
                        @Override
                        public float fill(IntArray inputs, IntArray targets) {
                            Dpo.fill(head, pairs, ref, from, P, world.size(), T, inputs, targets);
                            return 0f;
                        }

                        @Override
                        public void ran() {
                            Stats.add(head, stats);
                        }
                    }));
                    next[0] += P * world.size();
                    world.allReduceSum(stats);
                    figures[0] = Stats.record(stats, "", record);
                    record.put("lr", o.learningRate(step - 1));
                }

                @Override
                public Float evaluate(int step, boolean last, Map<String, Object> record) {
                    if (valPairs.isEmpty()) {
                        return null;
                    }
                    double[] stats = new double[Stats.SIZE];
                    for (int from = 0; from < valPairs.size(); from += P * world.size()) {
                        int start = from + world.rank() * P;
                        trainer.evaluate((inputs, targets) -> fill(head, valPairs, valRef, start, valPairs.size() - start, world.size(), T,
                                inputs, targets), 1);
                        Stats.add(head, stats);
                    }
                    world.allReduceSum(stats);
                    figures[1] = Stats.record(stats, "val_", record);
                    figures[2] = (float) (stats[Stats.CORRECT] / stats[Stats.PAIRS]);
                    return figures[1];
                }

                @Override
                public void checkpoint(int step, boolean writer) {
                    trainer.save(ckpt, tokenizer, writer);
                }

                @Override
                public long tokensPerStep() {
                    return 2L * P * T * world.size();
                }
            };
            int steps = TrainingLoop.of("DPO", o.steps()).ranksOf(trainer).evalEvery(s.evalEvery()).run(job, 0, world, s.out(), listener);
            return new Result(steps, figures[0], figures[1], figures[2], ckpt);
        }
    }

    /** Every comparison's pairs (a ranking's C(K, 2), better first), each response read as written: no end token added. */
    static List<Pair> pairs(Tokenizer tokenizer, List<Comparison> comparisons, int T) {
        List<Pair> out = new ArrayList<>();
        for (Comparison c : comparisons) {
            List<Sequences> rows = new ArrayList<>();
            for (String response : c.ranking()) {
                rows.add(Sequences.of(tokenizer, c.prompt(), response, false, T));
            }
            for (int i = 0; i < rows.size(); i++) {
                for (int j = i + 1; j < rows.size(); j++) {
                    out.add(new Pair(rows.get(i), rows.get(j)));
                }
            }
        }
        return out;
    }

    /**
     * Pairs {@code from..} of the list into the batch (cycling), the first {@code real} of them counted, the rest fillers
     * that count for nothing (counts 0, weight 0); each real pair weighs 1/(P·ranks), its share of the mean over every
     * rank's pairs.
     */
    static void fill(DpoHead head, List<Pair> pairs, float[] ref, int from, int real, int ranks, int T, IntArray inputs, IntArray targets) {
        for (int p = 0; p < head.P; p++) {
            int i = (from + p) % pairs.size();
            boolean counted = p < real;
            Pair pair = pairs.get(i);
            pair.chosen().fill(2 * p, T, inputs, targets);
            pair.rejected().fill(2 * p + 1, T, inputs, targets);
            head.ref.set(2 * p, ref[2 * i]);
            head.ref.set(2 * p + 1, ref[2 * i + 1]);
            head.counts.set(p, counted ? 2 : 0);
            head.weights.set(p, counted ? 1f / (head.P * ranks) : 0f);
        }
    }

    /**
     * The starting model's log-probability of every pair's responses ([2·pairs]: chosen, rejected), by the kernels
     * training uses, so that the first step's rewards are exactly 0.
     */
    static float[] referenceLogps(Gpt model, Backend backend, List<Pair> pairs, int P, int T, Collective world) {
        List<Sequences> rows = new ArrayList<>();
        for (Pair p : pairs) {
            rows.add(p.chosen());
            rows.add(p.rejected());
        }
        return logps(model, backend, rows, P, T, world);
    }

    /**
     * A frozen model's log-probability of each row's response (its tokens with a target), by {@link DpoHead}'s kernels
     * with β = 1 and ref = 0, in batches of 2P rows of T. Rank r scores batches r, r + ranks, ...; a sum over the ranks
     * then gives every rank all of them.
     */
    public static float[] logps(Gpt model, Backend backend, List<Sequences> rows, int P, int T, Collective world) {
        double[] logps = new double[rows.size()];
        int B = 2 * P;
        DpoHead head = new DpoHead(P, 1f);
        try (Scorer scorer = new Scorer(model, backend, B, T, head)) {
            for (int from = world.rank() * B; from < rows.size(); from += B * world.size()) {
                int start = from;
                scorer.score((inputs, targets) -> {
                    for (int b = 0; b < B; b++) {
                        rows.get((start + b) % rows.size()).fill(b, T, inputs, targets);
                    }
                });
                for (int b = 0; b < B && start + b < rows.size(); b++) {
                    logps[start + b] = head.rewards.get(b);
                }
            }
        }
        world.allReduceSum(logps);
        float[] out = new float[logps.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) logps[i];
        }
        return out;
    }

    /** Sums over a batch's real pairs, added up over batches and ranks before they become TRL's figures. */
    private static final class Stats {
        static final int LOSS = 0, CHOSEN = 1, REJECTED = 2, CORRECT = 3, LOGP_CHOSEN = 4, LOGP_REJECTED = 5, PAIRS = 6, SIZE = 7;

        static void add(DpoHead head, double[] s) {
            float beta = head.beta();
            for (int p = 0; p < head.P; p++) {
                if (head.counts.get(p) == 0) {
                    continue;
                }
                float rw = head.rewards.get(2 * p);
                float rl = head.rewards.get(2 * p + 1);
                s[LOSS] += head.losses.get(p);
                s[CHOSEN] += rw;
                s[REJECTED] += rl;
                s[CORRECT] += rw > rl ? 1 : 0;
                s[LOGP_CHOSEN] += rw / beta + head.ref.get(2 * p);
                s[LOGP_REJECTED] += rl / beta + head.ref.get(2 * p + 1);
                s[PAIRS]++;
            }
        }

        /** Puts the means into record under TRL's names with a prefix; returns the mean loss. */
        static float record(double[] s, String prefix, Map<String, Object> record) {
            double n = s[PAIRS];
            float loss = (float) (s[LOSS] / n);
            record.put(prefix + "loss", loss);
            record.put(prefix + "rewards/chosen", s[CHOSEN] / n);
            record.put(prefix + "rewards/rejected", s[REJECTED] / n);
            record.put(prefix + "rewards/margins", (s[CHOSEN] - s[REJECTED]) / n);
            record.put(prefix + "rewards/accuracies", s[CORRECT] / n);
            record.put(prefix + "logps/chosen", s[LOGP_CHOSEN] / n);
            record.put(prefix + "logps/rejected", s[LOGP_REJECTED] / n);
            return loss;
        }
    }
}
