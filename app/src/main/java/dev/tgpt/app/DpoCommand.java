package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Dpo;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.RlhfConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Direct preference optimisation: the SFT model learns from preference pairs, with no reward model and no sampling; "
                + "the reference is the starting model.",
                "Data: JSONL, {\"prompt\",\"chosen\",\"rejected\"} (TRL's format) or {\"prompt\",\"ranking\":[best, ..., worst]} (its C(K,2) pairs) "
                        + "per line. Writes OUT/metrics.jsonl (TRL's rewards/* figures; val_rewards/accuracies on the held-out pairs) and "
                        + "OUT/checkpoint." })
final class DpoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    TrainingOptions training;

    @Mixin
    LoraOption lora;

    @Mixin
    PlanOption plan;

    @Option(names = "--init", paramLabel = "DIR", required = true, description = "The model to start from and stay near (usually the SFT checkpoint).")
    Path init;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "Preferences (JSONL); the last tenth is held out.")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/dpo", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "200", description = "Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--pairs", defaultValue = "8", description = "Preference pairs per batch (two rows each). Default: ${DEFAULT-VALUE}.")
    int pairs;

    @Option(names = "--beta", defaultValue = "0.1", description = "β: the strength of the pull towards the reference. Default: ${DEFAULT-VALUE}.")
    float beta;

    @Option(names = "--lr", defaultValue = "1e-5", description = "Peak learning rate (warmup, then cosine to a tenth). Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--seed", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (steps < 1 || pairs < 1) {
            throw new UserError("--steps and --pairs must be at least 1");
        }
        if (!(beta > 0) || Float.isInfinite(beta)) {
            throw new UserError("--beta must be a positive number, not " + beta);
        }
        if (Files.exists(out.resolve("checkpoint"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        RlhfConfig.Dpo c = new RlhfConfig.Dpo();
        c.data = data.toString();
        c.steps = steps;
        c.pairs = pairs;
        c.beta = beta;
        c.lr = lr;
        c.seed = seed;
        Trainer.Options base = lora.apply(training.options());
        plan.show("", Pipeline.dpoPlan(Checkpoint.header(init).config().withDropout(0f), c, base), device.backend(),
                Pipeline.advice(base));
        if (plan.dryRun()) {
            return 0;
        }
        Dpo.Result r;
        try (Progress.Stages progress = new Progress.Stages("dpo", spec.commandLine().getErr())) {
            r = Pipeline.dpo(Checkpoint.load(init), c, out, device.backend(), base, progress);
        }
        spec.commandLine().getOut().printf("held-out preference accuracy %.3f, loss %.4f%ncheckpoint: %s%n", r.valAccuracy(), r.valLoss(), r.checkpoint());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
