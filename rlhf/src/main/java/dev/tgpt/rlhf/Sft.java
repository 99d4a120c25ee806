package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Metrics;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
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
        int T = o.context();
        List<Sequences> rows = encode(tokenizer, train, T);
        List<Sequences> valRows = encode(tokenizer, val, T);
        List<Sequences> order = new ArrayList<>(rows);
        Collections.shuffle(order, new Random(o.seed()));
        float loss = Float.NaN;
        float valLoss = Float.NaN;
        try (Trainer trainer = new Trainer(model, backend, o); Metrics metrics = new Metrics(s.out().resolve("metrics.jsonl"))) {
            listener.message(String.format("SFT: %d demonstrations, %d held out", rows.size(), valRows.size()));
            int[] next = { 0 };
            while (trainer.step() < o.steps()) {
                loss = trainer.trainStep((inputs, targets) -> {
                    fill(order, next[0], o.batch(), T, inputs, targets);
                    next[0] += o.batch();
                });
                int step = trainer.step();
                if (!Float.isFinite(loss)) {
                    throw new UserError("SFT stopped: the loss is " + loss + " at step " + step + "; nothing was saved");
                }
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("step", step);
                record.put("loss", loss);
                record.put("lr", o.learningRate(step - 1));
                Float measured = null;
                if (!valRows.isEmpty() && (step % s.evalEvery() == 0 || step == o.steps())) {
                    valLoss = evaluate(trainer, valRows, o.batch(), T);
                    measured = valLoss;
                    record.put("val_loss", valLoss);
                }
                metrics.log(record);
                listener.step(step, o.steps(), loss, measured, 0);
            }
            trainer.sync();
        }
        Path ckpt = TrainingRun.checkpointDir(s.out());
        Checkpoint.save(ckpt, model.config, tokenizer, model.params, null);
        return new Result(o.steps(), loss, valLoss, ckpt);
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

    /** The mean response-token loss over the rows (the last batch wraps around). */
    static float evaluate(Trainer trainer, List<Sequences> rows, int B, int T) {
        int batches = (rows.size() + B - 1) / B;
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            int from = i * B;
            sum += trainer.evaluate((inputs, targets) -> fill(rows, from, B, T, inputs, targets), 1);
        }
        return (float) (sum / batches);
    }
}
