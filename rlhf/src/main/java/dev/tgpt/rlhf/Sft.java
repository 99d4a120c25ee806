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
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingLoop;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.rlhf.data.Demonstration;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * InstructGPT's first step, supervised fine-tuning: the language-modelling loss on demonstrations, counted on the
 * response tokens only (the prompt's are context). Writes metrics.jsonl (step, loss, lr; val_loss when measured) and
 * OUT/checkpoint.
 */
public final class Sft {

    public record Settings(Trainer.Options trainer, int evalEvery, Path out) {
    }

    public record Result(int steps, float loss, float valLoss, Path checkpoint) {
    }

    private Sft() {
    }

    public static Result run(Gpt model, Tokenizer tokenizer, List<Demonstration> train, List<Demonstration> val, Backend backend, Settings s,
            TrainingRun.Listener listener) {
        Trainer.Options o = s.trainer();
        Collective world = o.world();
        int B = o.batch();
        int T = o.context();
        List<Sequences> rows = encode(tokenizer, train, T);
        List<Sequences> valRows = encode(tokenizer, val, T);
        List<Sequences> order = new ArrayList<>(rows);
        Collections.shuffle(order, new Random(o.seed()));
        float[] loss = { Float.NaN, Float.NaN };
        Path ckpt = TrainingRun.checkpointDir(s.out());
        try (Trainer trainer = new Trainer(model, backend, o)) {
            TrainingLoop.listener(listener, world).message(String.format("SFT: %d demonstrations, %d held out", rows.size(), valRows.size()));
            int[] next = { 0 };
            TrainingLoop.Job job = new TrainingLoop.Job() {
                @Override
                public void step(int step, Map<String, Object> record) {
                    // as pretraining: rank r takes rows r·B.. of each batch of ranks·B rows
                    loss[0] = trainer.trainStep((inputs, targets) -> {
                        fill(order, next[0] + world.rank() * B, B, T, inputs, targets);
                        next[0] += B * world.size();
                    });
                    record.put("loss", loss[0]);
                    record.put("lr", o.learningRate(step - 1));
                }

                @Override
                public Float evaluate(int step, boolean last, Map<String, Object> record) {
                    if (valRows.isEmpty()) {
                        return null;
                    }
                    loss[1] = Sft.evaluate(trainer, valRows, B, T);
                    record.put("val_loss", loss[1]);
                    return loss[1];
                }

                @Override
                public void checkpoint(int step, boolean writer) {
                    trainer.save(ckpt, tokenizer, writer);
                }
            };
            int steps = TrainingLoop.of("SFT", o.steps()).ranksOf(trainer).evalEvery(s.evalEvery()).run(job, 0, world, s.out(), listener);
            return new Result(steps, loss[0], loss[1], ckpt);
        }
    }

    /** Demonstrations as rows, each response ended with the end-of-response token so the model learns to stop. */
    static List<Sequences> encode(Tokenizer tokenizer, List<Demonstration> demos, int T) {
        List<Sequences> rows = new ArrayList<>();
        for (Demonstration d : demos) {
            rows.add(Sequences.of(tokenizer, d.prompt(), d.completion(), true, T));
        }
        return rows;
    }

    /** Rows from..from+B of the list, cycling. */
    static void fill(List<Sequences> rows, int from, int B, int T, IntArray inputs,
            IntArray targets) {
        for (int b = 0; b < B; b++) {
            rows.get((from + b) % rows.size()).fill(b, T, inputs, targets);
        }
    }

    /** The mean response-token loss over the rows, in batches of ranks·B (the last batch wraps around). */
    static float evaluate(Trainer trainer, List<Sequences> rows, int B, int T) {
        int ranks = trainer.world().size();
        int batches = (rows.size() + B * ranks - 1) / (B * ranks);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            int from = i * B * ranks + trainer.world().rank() * B;
            sum += trainer.evaluate((inputs, targets) -> fill(rows, from, B, T, inputs, targets), 1);
        }
        return (float) (sum / batches);
    }
}
