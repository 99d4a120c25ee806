package dev.tgpt.rlhf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingLoop;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.rlhf.data.Comparison;
import dev.tgpt.rlhf.data.Demonstration;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * InstructGPT's second step: a reward model, the GPT backbone with a {@link RewardHead}, trained on K-way rankings.
 * Reports the held-out pairwise accuracy (val_acc: the fraction of pairs whose better response gets the higher
 * reward), then shifts the head's bias so that the demonstrations' mean reward is 0. Writes metrics.jsonl,
 * OUT/checkpoint (the backbone) and OUT/reward.safetensors (score.weight, score.bias).
 */
public final class RewardModel {

    /** @param prompts prompts per batch; each brings K response slots (K: the most responses any ranking has) */
    public record Settings(Trainer.Options trainer, int prompts, int evalEvery, Path out) {
    }

    public record Result(int steps, float loss, float valAccuracy, float demonstrationMean, Path dir) {
    }

    static final String HEAD_FILE = "reward.safetensors";

    private RewardModel() {
    }

    public static Result train(Gpt model, Tokenizer tokenizer, List<Comparison> train, List<Comparison> val, List<Demonstration> demos,
            Backend backend, Settings s, TrainingRun.Listener listener) {
        int T = s.trainer().context();
        int K = 2;
        for (Comparison c : train) {
            K = Math.max(K, c.ranking().size());
        }
        for (Comparison c : val) {
            K = Math.max(K, c.ranking().size());
        }
        int P = s.prompts();
        Trainer.Options o = s.trainer().batch(P * K).context(T);
        RewardHead head = new RewardHead(P, K, model.config.channels(), o.seed());
        List<List<Sequences>> rows = encode(tokenizer, train, T);
        List<List<Sequences>> valRows = encode(tokenizer, val, T);
        Collections.shuffle(rows, new Random(o.seed()));
        Collective world = o.world();
        float[] figures = { Float.NaN, Float.NaN };
        float mean;
        try (Trainer trainer = new Trainer(model, backend, o, head)) {
            TrainingLoop.listener(listener, world).message(String.format("reward model: %d rankings (K up to %d), %d held out", rows.size(), K,
                    valRows.size()));
            int[] next = { 0 };
            TrainingLoop.Job job = new TrainingLoop.Job() {
                @Override
                public void step(int step, Map<String, Object> record) {
                    // the K-way batches split by prompt: rank r takes prompts r·P.. of each batch of ranks·P
                    trainer.trainStep((inputs, targets) -> {
                        fill(head, rows, next[0] + world.rank() * P, world.size(), T, inputs, targets);
                        next[0] += P * world.size();
                    }, 0f);
                    double[] sum = { 0 };
                    for (int p = 0; p < P; p++) {
                        sum[0] += head.losses.get(p);
                    }
                    world.allReduceSum(sum);
                    figures[0] = (float) (sum[0] / (P * world.size()));
                    record.put("loss", figures[0]);
                    record.put("lr", o.learningRate(step - 1));
                }

                @Override
                public Float evaluate(int step, boolean last, Map<String, Object> record) {
                    if (!valRows.isEmpty()) {
                        figures[1] = accuracy(trainer, head, valRows, T);
                        record.put("val_acc", figures[1]);
                    }
                    return null;
                }
            };
            TrainingLoop.of("reward model training", o.steps()).ranksOf(trainer).evalEvery(s.evalEvery()).run(job, 0, world, s.out(), listener);
            mean = meanReward(trainer, head, demos, tokenizer, T);
            trainer.save(TrainingRun.checkpointDir(s.out()), tokenizer, world.rank() == 0);
            trainer.read(head.weight, head.bias);
        }
        head.bias.set(0, head.bias.get(0) - mean);
        if (world.rank() == 0) {
            saveHead(s.out().resolve(HEAD_FILE), head);
        }
        TrainingLoop.listener(listener, world).message(String.format(
                "reward model: held-out pairwise accuracy %.3f; demonstrations' mean reward %.3f, now 0", figures[1], mean));
        return new Result(o.steps(), figures[0], figures[1], mean, s.out());
    }

    /** Each ranking's responses as rows, read at their last real token (no end token added: an unfinished answer stays one). */
    static List<List<Sequences>> encode(Tokenizer tokenizer, List<Comparison> comparisons, int T) {
        List<List<Sequences>> out = new ArrayList<>();
        for (Comparison c : comparisons) {
            List<Sequences> ranked = new ArrayList<>();
            for (String response : c.ranking()) {
                ranked.add(Sequences.of(tokenizer, c.prompt(), response, false, T));
            }
            out.add(ranked);
        }
        return out;
    }

    /**
     * Prompts from..from+P (cycling) into the batch: slot (p, i) is row p·K + i; a ranking shorter than K fills its
     * spare slots with its best response, which the loss ignores (counts[p] = its length). Each prompt's loss is a
     * share of the mean over the prompts of all {@code ranks}.
     */
    static void fill(RewardHead head, List<List<Sequences>> rankings, int from, int ranks, int T, IntArray inputs, IntArray targets) {
        int P = head.P, K = head.K;
        for (int p = 0; p < P; p++) {
            List<Sequences> ranked = rankings.get((from + p) % rankings.size());
            head.counts.set(p, ranked.size());
            head.dlosses.set(p, 1f / (P * ranks));
            for (int i = 0; i < K; i++) {
                Sequences s = ranked.get(i < ranked.size() ? i : 0);
                int b = p * K + i;
                s.fill(b, T, inputs, targets);
                head.rows.set(b, b * T + s.last());
            }
        }
        // the model's own language-modelling loss is not part of a reward model's objective
        for (int i = 0; i < targets.getSize(); i++) {
            targets.set(i, -1);
        }
    }

    /** The fraction of held-out pairs (better, worse) whose better response gets the higher reward. */
    static float accuracy(Trainer trainer, RewardHead head, List<List<Sequences>> rankings, int T) {
        Collective world = trainer.world();
        long correct = 0;
        long pairs = 0;
        for (int from = 0; from < rankings.size(); from += head.P * world.size()) {
            int start = from + world.rank() * head.P;
            trainer.evaluate((inputs, targets) -> fill(head, rankings, start, world.size(), T, inputs, targets), 1);
            for (int p = 0; p < head.P && start + p < rankings.size(); p++) {
                int k = head.counts.get(p);
                for (int i = 0; i < k; i++) {
                    for (int j = i + 1; j < k; j++) {
                        correct += head.rewards.get(p * head.K + i) > head.rewards.get(p * head.K + j) ? 1 : 0;
                        pairs++;
                    }
                }
            }
        }
        double[] counts = { correct, pairs };
        world.allReduceSum(counts);
        return counts[1] == 0 ? Float.NaN : (float) (counts[0] / counts[1]);
    }

    /** The mean reward of the demonstrations (prompt and ended response), scored as K-slot batches of one response each. */
    static float meanReward(Trainer trainer, RewardHead head, List<Demonstration> demos, Tokenizer tokenizer, int T) {
        List<Sequences> rows = Sft.encode(tokenizer, demos, T);
        if (rows.isEmpty()) {
            return 0f;
        }
        Collective world = trainer.world();
        int B = head.P * head.K;
        double[] sum = { 0 };
        for (int from = 0; from < rows.size(); from += B * world.size()) {
            int start = from + world.rank() * B;
            trainer.evaluate((inputs, targets) -> {
                for (int b = 0; b < B; b++) {
                    Sequences s = rows.get((start + b) % rows.size());
                    s.fill(b, T, inputs, targets);
                    head.rows.set(b, b * T + s.last());
                }
                for (int p = 0; p < head.P; p++) {
                    head.counts.set(p, 0);
                }
            }, 1);
            for (int b = 0; b < B && start + b < rows.size(); b++) {
                sum[0] += head.rewards.get(b);
            }
        }
        world.allReduceSum(sum);
        return (float) (sum[0] / rows.size());
    }

    static void saveHead(Path file, RewardHead head) {
        try {
            Safetensors.write(file, Map.of("score.weight", new Safetensors.Entry(new long[] { 1, head.C }, head.weight), "score.bias",
                    new Safetensors.Entry(new long[] { 1 }, head.bias)), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A trained reward model's head from its directory, shaped for P prompts of K slots. */
    public static RewardHead loadHead(Path dir, int channels, int prompts, int slots) {
        Path file = dir.resolve(HEAD_FILE);
        if (!Files.isRegularFile(file)) {
            throw new UserError(dir + " is not a reward model: it has no " + HEAD_FILE);
        }
        RewardHead head = new RewardHead(prompts, slots, channels, 0);
        try (Safetensors st = Safetensors.open(file)) {
            FloatArray w = st.floats("score.weight");
            FloatArray b = st.floats("score.bias");
            if (w.getSize() != channels || b.getSize() != 1) {
                throw new UserError(file + ": score.weight has " + w.getSize() + " values and score.bias " + b.getSize() + "; the backbone needs "
                        + channels + " and 1");
            }
            for (int c = 0; c < channels; c++) {
                head.weight.set(c, w.get(c));
            }
            head.bias.set(0, b.get(0));
        }
        return head;
    }
}
