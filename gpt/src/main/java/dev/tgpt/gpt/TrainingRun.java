package dev.tgpt.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.Batches;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.gpt.io.TrainingState;

/**
 * A whole training run into an output directory: steps, periodic validation loss, samples and checkpoints, and
 * metrics.jsonl (step, loss, lr, tokens_per_s, grad_norm, and val_loss when measured). A non-finite loss stops the run
 * before anything is saved from it, so the last checkpoint stays the last good one.
 */
public final class TrainingRun {

    /**
     * @param evalEvery       steps between validation losses (and at the end)
     * @param sampleEvery     steps between samples written to samples.txt (0: only at the end)
     * @param checkpointEvery steps between checkpoints (and at the end)
     * @param maxTime         stop after this long, cleanly (validation, checkpoint, sample); null: no limit
     */
    public record Settings(Trainer.Options trainer, int evalEvery, int evalBatches, int sampleEvery, int sampleTokens, int checkpointEvery,
            Duration maxTime, Path out) {
    }

    /** What a run reports as it goes. */
    public interface Listener {
        default void step(int step, int steps, float loss, Float valLoss, double tokensPerSecond) {
        }

        default void message(String line) {
        }
    }

    public record Result(int steps, float trainLoss, float valLoss, Duration time, Path checkpoint, String sample) {
    }

    private TrainingRun() {
    }

    public static Path checkpointDir(Path out) {
        return out.resolve("checkpoint");
    }

    /** Runs to {@code settings.trainer().steps()} (or the time limit), starting from {@code resume} when given. */
    public static Result run(Gpt model, Tokenizer tokenizer, Dataset data, Backend backend, Settings settings, TrainingState resume,
            Listener listener) {
        Trainer.Options o = settings.trainer();
        int need = o.context() + 1;
        if (data.train().length < need || data.val().length < need) {
            throw new UserError("the dataset is too small for a context of " + o.context() + ": it needs at least " + need
                    + " tokens in each split, and has " + data.train().length + " for training and " + data.val().length + " for validation");
        }
        Batches train = new Batches(data.train(), o.batch(), o.context(), o.seed());
        Path ckpt = checkpointDir(settings.out());
        long start = System.nanoTime();
        float lastLoss = Float.NaN;
        float valLoss = Float.NaN;
        int lastSaved = resume == null ? -1 : (int) resume.step();
        try (Trainer trainer = new Trainer(model, backend, o); Metrics metrics = new Metrics(settings.out().resolve("metrics.jsonl"))) {
            if (resume != null) {
                trainer.restore(resume);
                train.restore(resume.dataRng());
            }
            listener.message(String.format("model: %,d parameters, %s; %d steps of %d×%d tokens×%d on %s", model.params.count(),
                    describe(model.config), o.steps(), o.batch(), o.context(), o.accumulation(), backend.info().id()));
            while (trainer.step() < o.steps()) {
                long t0 = System.nanoTime();
                double kernels0 = trainer.kernelSeconds();
                float loss = trainer.trainStep(train::next);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double kernelSeconds = trainer.kernelSeconds() - kernels0;
                int step = trainer.step();
                if (!Float.isFinite(loss)) {
                    throw new UserError("training stopped: the loss is " + loss + " at step " + step
                            + (lastSaved >= 0 ? "; the last good checkpoint is " + ckpt + " (step " + lastSaved + ")" : "; nothing was saved"));
                }
                lastLoss = loss;
                boolean last = step == o.steps() || overTime(settings, start);
                Float val = null;
                if (step % settings.evalEvery() == 0 || last) {
                    // the final loss is the run's result: measured on 5× the batches
                    int batches = last ? 5 * settings.evalBatches() : settings.evalBatches();
                    valLoss = trainer.evaluate(new Batches(data.val(), o.batch(), o.context(), 1234)::next, batches);
                    val = valLoss;
                }
                double tokensPerSecond = (double) o.batch() * o.context() * o.accumulation() / seconds;
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("step", step);
                record.put("loss", loss);
                record.put("lr", o.learningRate(step - 1));
                record.put("tokens_per_s", Math.round(tokensPerSecond));
                record.put("grad_norm", trainer.lastGradNorm());
                if (trainer.compileSeconds() > 0) {
                    record.put("compile_s", trainer.compileSeconds());
                    // the step's time in kernels on the device, by TornadoVM's profiler; the rest of step_s is the host's
                    record.put("step_s", seconds);
                    record.put("kernel_s", kernelSeconds);
                }
                if (val != null) {
                    record.put("val_loss", val);
                }
                metrics.log(record);
                listener.step(step, o.steps(), loss, val, tokensPerSecond);
                if (step == (resume == null ? 1 : resume.step() + 1) && trainer.compileSeconds() > 0) {
                    listener.message(String.format("first step %.2f s, of which %.2f s TornadoVM compiling kernels (once per shape)", seconds,
                            trainer.compileSeconds()));
                }
                if (settings.sampleEvery() > 0 && step % settings.sampleEvery() == 0 && !last) {
                    sample(model, tokenizer, backend, trainer, settings, step, listener);
                }
                if (step % settings.checkpointEvery() == 0 || last) {
                    Checkpoint.save(ckpt, model.config, tokenizer, model.params, trainer.state(train.state()));
                    lastSaved = step;
                }
                if (last) {
                    break;
                }
            }
            String sample = sample(model, tokenizer, backend, trainer, settings, trainer.step(), listener);
            return new Result(trainer.step(), lastLoss, valLoss, Duration.ofNanos(System.nanoTime() - start), ckpt, sample);
        }
    }

    private static boolean overTime(Settings s, long start) {
        return s.maxTime() != null && System.nanoTime() - start >= s.maxTime().toNanos();
    }

    /** A sample from the current weights, appended to samples.txt. */
    private static String sample(Gpt model, Tokenizer tokenizer, Backend backend, Trainer trainer, Settings s, int step, Listener listener) {
        trainer.sync();
        String prompt = "\n";
        String text;
        // the sampler's session takes its own copy of the weights from the host
        try (Sampler sampler = new Sampler(model, backend, 1)) {
            text = prompt + sampler.generate(List.of(prompt), tokenizer, new Sampler.Options(s.sampleTokens(), 1f, 0, 1f, List.of(), step))
                    .getFirst();
        }
        try {
            Files.writeString(s.out().resolve("samples.txt"), "--- step " + step + "\n" + text + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        listener.message("sample at step " + step + ":" + text);
        return text;
    }

    static String describe(GptConfig c) {
        return String.format("%s, %d layers, %d heads, %d wide, context %d, vocabulary %d%s", c.style().name(), c.layers(), c.heads(),
                c.channels(), c.context(), c.vocabSize(), c.dropout() > 0 ? ", dropout " + c.dropout() : "");
    }
}
