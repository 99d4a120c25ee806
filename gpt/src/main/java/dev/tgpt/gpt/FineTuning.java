package dev.tgpt.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.data.Labelled;
import dev.tgpt.gpt.data.Tokenizer;

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
        Collective world = o.world();
        int B = o.batch();
        int T = o.context();
        Classifier head = new Classifier(train.labels().size(), B, model.config.channels(), o.seed());
        // each row's loss is a share of the whole batch's mean, over every rank's rows
        head.dlosses.init(1f / (B * world.size()));
        float[] loss = { Float.NaN };
        float[] evaluation = { Float.NaN, Float.NaN };
        Labelled order = train.reordered(train.shuffled(o.seed()));
        Path ckpt = TrainingRun.checkpointDir(s.out());
        try (Trainer trainer = new Trainer(model, backend, o, head)) {
            int[] next = { 0 };
            TrainingLoop.listener(listener, world).message(String.format("fine-tuning: %d classes %s, %d training and %d validation texts, λ = %s",
                    head.classes, train.labels(), train.examples().size(), val.examples().size(), s.lambda()));
            TrainingLoop.Job job = new TrainingLoop.Job() {
                @Override
                public void step(int step, Map<String, Object> record) {
                    float lm = trainer.trainStep((tokens, targets) -> {
                        order.fill(next[0] + world.rank() * B, tokens, targets, head.rows, head.labels, B, T);
                        next[0] += B * world.size();
                    }, s.lambda());
                    double[] cls = { 0 };
                    for (int b = 0; b < B; b++) {
                        cls[0] += head.losses.get(b);
                    }
                    world.allReduceSum(cls);
                    cls[0] /= B * world.size();
                    loss[0] = (float) (cls[0] + s.lambda() * lm);
                    record.put("loss", loss[0]);
                    record.put("cls_loss", (float) cls[0]);
                    record.put("lm_loss", lm);
                    record.put("lr", o.learningRate(step - 1));
                }

                @Override
                public Float evaluate(int step, boolean last, Map<String, Object> record) {
                    float[] e = FineTuning.evaluate(trainer, head, val, B, T);
                    evaluation[0] = e[0];
                    evaluation[1] = e[1];
                    record.put("val_loss", e[0]);
                    record.put("val_acc", e[1]);
                    return e[0];
                }

                @Override
                public void checkpoint(int step, boolean writer) {
                    trainer.save(ckpt, tokenizer, writer);
                    if (writer) {
                        saveHead(s.out().resolve("classifier.safetensors"), head, train);
                    }
                }
            };
            int steps = TrainingLoop.of("fine-tuning", o.steps()).ranksOf(trainer).evalEvery(s.evalEvery()).run(job, 0, world, s.out(), listener);
            return new Result(steps, loss[0], evaluation[0], evaluation[1], ckpt);
        }
    }

    /**
     * Mean classification loss and accuracy over every validation text, each rank scoring its share of each batch of
     * ranks·B texts (the last batch wraps around; its extras don't count).
     */
    static float[] evaluate(Trainer trainer, Classifier head, Labelled val, int B, int T) {
        Collective world = trainer.world();
        double[] sums = new double[2];
        int n = val.examples().size();
        for (int from = 0; from < n; from += B * world.size()) {
            int start = from + world.rank() * B;
            trainer.evaluate((tokens, targets) -> val.fill(start, tokens, targets, head.rows, head.labels, B, T), 1);
            for (int b = 0; b < B && start + b < n; b++) {
                sums[0] += head.losses.get(b);
                sums[1] += head.predicted(b) == head.labels.get(b) ? 1 : 0;
            }
        }
        world.allReduceSum(sums);
        return new float[] { (float) (sums[0] / n), (float) (sums[1] / n) };
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
