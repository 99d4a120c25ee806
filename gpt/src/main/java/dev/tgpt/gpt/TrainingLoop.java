package dev.tgpt.gpt;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;

/**
 * The one training loop every trainer runs (pretraining, fine-tuning, SFT, the reward model, PPO): the steps, the stop
 * on a non-finite loss (before anything of that step is saved, so the last checkpoint stays the last good one), the
 * evaluation cadence, metrics.jsonl, the listener, checkpoints and the time limit. With several ranks every rank runs
 * it in step; only rank 0 writes metrics and checkpoints and reports to the listener.
 *
 * <p>Built as {@code TrainingLoop.of("training", steps).evalEvery(250).checkpointEvery(500)}; a {@link Job} says what
 * a step, an evaluation and a checkpoint are.
 */
public final class TrainingLoop {

    /** What one kind of training does each step; the loop does the rest. */
    public interface Job {
        /** One optimizer step (PPO: an iteration), its figures put into record (after the step number). */
        void step(int step, Map<String, Object> record);

        /** Validation figures into record; returns the validation loss to report, or null. Every rank calls it. */
        default Float evaluate(int step, boolean last, Map<String, Object> record) {
            return null;
        }

        /** After the step is logged (samples, messages); every rank calls it. */
        default void after(int step, boolean last, double seconds) {
        }

        /** Saves a checkpoint; every rank calls it (ZeRO gathers the optimizer state), only {@code writer} writes. */
        default void checkpoint(int step, boolean writer) {
        }

        /** Tokens trained on per step over all ranks, for tokens_per_s (0: not reported). */
        default long tokensPerStep() {
            return 0;
        }
    }

    private final String name;
    private final int steps;
    private String unit = "step";
    private List<String> watched = List.of("loss");
    private int evalEvery = Integer.MAX_VALUE;
    private int checkpointEvery = Integer.MAX_VALUE;
    private Duration maxTime;
    private Trainer trainer;

    private TrainingLoop(String name, int steps) {
        this.name = name;
        this.steps = steps;
    }

    /** @param name what the run is called in messages ("training", "SFT", ...) */
    public static TrainingLoop of(String name, int steps) {
        return new TrainingLoop(name, steps);
    }

    /** The name of a step in metrics.jsonl and messages (PPO's are iterations). */
    public TrainingLoop unit(String unit) {
        this.unit = unit;
        return this;
    }

    /** The figures that stop the run when not finite (default: the loss). */
    public TrainingLoop watch(String... keys) {
        this.watched = List.of(keys);
        return this;
    }

    /** Steps between evaluations; there is always one after the last step. */
    public TrainingLoop evalEvery(int n) {
        this.evalEvery = n;
        return this;
    }

    /** Steps between checkpoints; there is always one after the last step. */
    public TrainingLoop checkpointEvery(int n) {
        this.checkpointEvery = n;
        return this;
    }

    /** Stop cleanly (evaluation and checkpoint) after this long; null: no limit. */
    public TrainingLoop maxTime(Duration d) {
        this.maxTime = d;
        return this;
    }

    /**
     * The trainer whose ranks the run's first message describes (how many, ZeRO-1, the overlap, NCCL); none: no such
     * message (a command that says it in its own header).
     */
    public TrainingLoop ranksOf(Trainer trainer) {
        this.trainer = trainer;
        return this;
    }

    /** What rank 0 reports; the others report nothing. */
    public static TrainingRun.Listener listener(TrainingRun.Listener listener, Collective world) {
        return world.rank() == 0 ? listener : new TrainingRun.Listener() {
        };
    }

    /**
     * Runs steps {@code done + 1} to the last, appending to {@code out/metrics.jsonl}; returns the last step run. The
     * first figure of {@code watched} is what the listener reports as the step's loss.
     */
    public int run(Job job, int done, Collective world, Path out, TrainingRun.Listener listener) {
        boolean writer = world.rank() == 0;
        TrainingRun.Listener report = listener(listener, world);
        if (trainer != null && (world.size() > 1 || !trainer.parallelism().isEmpty())) {
            report.message(name + ": " + world.size() + (world.size() > 1 ? " ranks" : " rank") + trainer.parallelism());
        }
        long start = System.nanoTime();
        int lastSaved = done > 0 ? done : -1;
        int step = done;
        try (Metrics metrics = writer ? new Metrics(out.resolve("metrics.jsonl")) : null) {
            while (step < steps) {
                step++;
                long t0 = System.nanoTime();
                Map<String, Object> record = new LinkedHashMap<>();
                record.put(unit, step);
                job.step(step, record);
                double seconds = (System.nanoTime() - t0) / 1e9;
                for (String key : watched) {
                    if (record.get(key) instanceof Number n && !Double.isFinite(n.doubleValue())) {
                        throw new UserError(name + " stopped: the " + key + " is " + n + " at " + unit + " " + step
                                + (lastSaved >= 0 ? "; the last good checkpoint is from " + unit + " " + lastSaved : "; nothing was saved"));
                    }
                }
                double tokensPerSecond = job.tokensPerStep() / seconds;
                if (job.tokensPerStep() > 0) {
                    record.put("tokens_per_s", Math.round(tokensPerSecond));
                }
                boolean last = step == steps || maxTime != null && System.nanoTime() - start >= maxTime.toNanos();
                Float val = step % evalEvery == 0 || last ? job.evaluate(step, last, record) : null;
                if (writer) {
                    metrics.log(record);
                }
                report.step(step, steps, ((Number) record.get(watched.get(0))).floatValue(), val, tokensPerSecond);
                job.after(step, last, seconds);
                if (step % checkpointEvery == 0 || last) {
                    job.checkpoint(step, writer);
                    lastSaved = step;
                }
                if (last) {
                    break;
                }
            }
        }
        return step;
    }
}
