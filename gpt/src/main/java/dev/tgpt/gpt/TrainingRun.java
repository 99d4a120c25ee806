package dev.tgpt.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
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

    /**
     * Runs to {@code settings.trainer().steps()} (or the time limit), starting from {@code resume} when given. With
     * several ranks ({@link Trainer.Options#world}), each trains on its share of every batch; rank 0 writes.
     */
    public static Result run(Gpt model, Tokenizer tokenizer, Dataset data, Backend backend, Settings settings, TrainingState resume,
            Listener listener) {
        Trainer.Options o = settings.trainer();
        Collective world = o.world();
        int need = o.context() + 1;
        if (data.train().length < need || data.val().length < need) {
            throw new UserError("the dataset is too small for a context of " + o.context() + ": it needs at least " + need
                    + " tokens in each split, and has " + data.train().length + " for training and " + data.val().length + " for validation");
        }
        Batches train = new Batches(data.train(), o.batch(), o.context(), o.seed()).shard(world.rank(), world.size());
        Path ckpt = checkpointDir(settings.out());
        long start = System.nanoTime();
        Listener report = TrainingLoop.listener(listener, world);
        try (Trainer trainer = new Trainer(model, backend, o)) {
            if (resume != null) {
                trainer.restore(resume);
                train.restore(resume.dataRng());
            }
            report.message(String.format("model: %,d parameters, %s; %d steps of %d×%d tokens×%d%s on %s%s", model.params.count(),
                    describe(model.config), o.steps(), o.batch(), o.context(), o.accumulation(),
                    world.size() > 1 ? "×" + world.size() + " ranks" : "", devices(world, backend), trainer.parallelism()));
            float[] last = { Float.NaN, Float.NaN };
            String[] sample = { null };
            int first = resume == null ? 1 : (int) resume.step() + 1;
            TrainingLoop.Job job = new TrainingLoop.Job() {
                @Override
                public void step(int step, Map<String, Object> record) {
                    double kernels0 = trainer.kernelSeconds();
                    double comm0 = trainer.commSeconds();
                    long t0 = System.nanoTime();
                    last[0] = trainer.trainStep(train::next);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    record.put("loss", last[0]);
                    record.put("lr", o.learningRate(step - 1));
                    record.put("grad_norm", trainer.lastGradNorm());
                    if (world.size() > 1 || o.zero() == 1) {
                        // the step's time in exchanges with the other ranks (all-reduce, or reduce-scatter and all-gather)
                        record.put("step_s", seconds);
                        record.put("comm_s", trainer.commSeconds() - comm0);
                    }
                    if (trainer.compileSeconds() > 0) {
                        record.put("compile_s", trainer.compileSeconds());
                        // the step's time in kernels on the device, by TornadoVM's profiler; the rest of step_s is the host's
                        record.put("step_s", seconds);
                        record.put("kernel_s", trainer.kernelSeconds() - kernels0);
                    }
                }

                @Override
                public Float evaluate(int step, boolean end, Map<String, Object> record) {
                    // the final loss is the run's result: measured on 5× the batches
                    int batches = end ? 5 * settings.evalBatches() : settings.evalBatches();
                    last[1] = trainer.evaluate(new Batches(data.val(), o.batch(), o.context(), 1234).shard(world.rank(), world.size())::next,
                            batches);
                    record.put("val_loss", last[1]);
                    return last[1];
                }

                @Override
                public void after(int step, boolean end, double seconds) {
                    if (step == first && trainer.compileSeconds() > 0) {
                        report.message(String.format("first step %.2f s, of which %.2f s TornadoVM compiling kernels (once per shape)", seconds,
                                trainer.compileSeconds()));
                    }
                    if (world.rank() == 0 && (end || settings.sampleEvery() > 0 && step % settings.sampleEvery() == 0)) {
                        sample[0] = sample(model, tokenizer, backend, trainer, settings, step, report);
                    }
                }

                @Override
                public void checkpoint(int step, boolean writer) {
                    TrainingState state = trainer.state(train.state());
                    if (writer) {
                        Checkpoint.save(ckpt, model.config, tokenizer, model.params, state);
                    }
                }

                @Override
                public long tokensPerStep() {
                    return (long) o.batch() * o.context() * o.accumulation() * world.size();
                }
            };
            int steps = TrainingLoop.of("training", o.steps()).evalEvery(settings.evalEvery()).checkpointEvery(settings.checkpointEvery())
                    .maxTime(settings.maxTime()).run(job, trainer.step(), world, settings.out(), listener);
            return new Result(steps, last[0], last[1], Duration.ofNanos(System.nanoTime() - start), ckpt, sample[0]);
        }
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

    /** The ranks' devices in rank order ("0:0, 0:1"), or the one they share. */
    private static String devices(Collective world, Backend backend) {
        List<String> all = world.everyRank(backend.info().id());
        return all.stream().distinct().count() == 1 ? all.getFirst() : String.join(", ", all);
    }

    static String describe(GptConfig c) {
        return String.format("%s, %d layers, %d heads, %d wide, context %d, vocabulary %d%s", c.style().name(), c.layers(), c.heads(),
                c.channels(), c.context(), c.vocabSize(), c.dropout() > 0 ? ", dropout " + c.dropout() : "");
    }
}
