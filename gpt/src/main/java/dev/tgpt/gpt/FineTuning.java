package dev.tgpt.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.data.Labelled;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;

/**
 * GPT-1's supervised fine-tuning (Radford et al. 2018, §3.2): a classifier on the last token's final hidden state,
 * trained with L3 = L2 + λ·L1, where L2 is the classification loss and L1 the language-modelling loss on the same
 * texts (the auxiliary objective). Writes metrics.jsonl (step, loss = L3, cls_loss, lm_loss, lr; val_loss and val_acc
 * when measured), the fine-tuned model as OUT/checkpoint and the head as OUT/classifier.safetensors (score.weight,
 * the labels in its metadata).
 */
public final class FineTuning {

    /** @param lambda λ, the weight of the language-modelling loss */
    public record Settings(Trainer.Options trainer, float lambda, int evalEvery, Path out) {
    }

    public record Result(int steps, float loss, float valLoss, float valAccuracy, Path checkpoint) {
    }

    private FineTuning() {
    }

    public static Result run(Gpt model, Tokenizer tokenizer, Labelled train, Labelled val, Backend backend, Settings s,
            TrainingRun.Listener listener) {
        Trainer.Options o = s.trainer();
        int B = o.batch();
        int T = o.context();
        Classifier head = new Classifier(train.labels().size(), B, model.config.channels(), o.seed());
        float loss = Float.NaN;
        float[] evaluation = { Float.NaN, Float.NaN };
        Labelled order = train.reordered(train.shuffled(o.seed()));
        try (Trainer trainer = new Trainer(model, backend, o, head); Metrics metrics = new Metrics(s.out().resolve("metrics.jsonl"))) {
            int[] next = { 0 };
            listener.message(String.format("fine-tuning: %d classes %s, %d training and %d validation texts, λ = %s", head.classes,
                    train.labels(), train.examples().size(), val.examples().size(), s.lambda()));
            while (trainer.step() < o.steps()) {
                double cls = 0;
                float lm = trainer.trainStep((tokens, targets) -> {
                    order.fill(next[0], tokens, targets, head.rows, head.labels, B, T);
                    next[0] += B;
                }, s.lambda());
                for (int b = 0; b < B; b++) {
                    cls += head.losses.get(b) / B;
                }
                int step = trainer.step();
                loss = (float) (cls + s.lambda() * lm);
                if (!Float.isFinite(loss)) {
                    throw new UserError("fine-tuning stopped: the loss is " + loss + " at step " + step + "; nothing was saved");
                }
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("step", step);
                record.put("loss", loss);
                record.put("cls_loss", (float) cls);
                record.put("lm_loss", lm);
                record.put("lr", o.learningRate(step - 1));
                Float valLoss = null;
                if (step % s.evalEvery() == 0 || step == o.steps()) {
                    evaluation = evaluate(trainer, head, val, B, T);
                    valLoss = evaluation[0];
                    record.put("val_loss", evaluation[0]);
                    record.put("val_acc", evaluation[1]);
                }
                metrics.log(record);
                listener.step(step, o.steps(), loss, valLoss, 0);
            }
            trainer.sync();
            Path ckpt = TrainingRun.checkpointDir(s.out());
            Checkpoint.save(ckpt, model.config, tokenizer, model.params, null);
            saveHead(s.out().resolve("classifier.safetensors"), head, train);
            return new Result(trainer.step(), loss, evaluation[0], evaluation[1], ckpt);
        }
    }

    /** Mean classification loss and accuracy over every validation text (the last batch wraps around; its extras don't count). */
    static float[] evaluate(Trainer trainer, Classifier head, Labelled val, int B, int T) {
        double loss = 0;
        int correct = 0;
        int n = val.examples().size();
        for (int from = 0; from < n; from += B) {
            int start = from;
            trainer.evaluate((tokens, targets) -> val.fill(start, tokens, targets, head.rows, head.labels, B, T), 1);
            for (int b = 0; b < B && start + b < n; b++) {
                loss += head.losses.get(b);
                correct += head.predicted(b) == head.labels.get(b) ? 1 : 0;
            }
        }
        return new float[] { (float) (loss / n), (float) correct / n };
    }

    private static void saveHead(Path file, Classifier head, Labelled train) {
        try {
            String labels = new ObjectMapper().writeValueAsString(train.labels());
            Safetensors.write(file, Map.of("score.weight", new Safetensors.Entry(new long[] { head.classes, head.C }, head.weight)),
                    Map.of("labels", labels));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
