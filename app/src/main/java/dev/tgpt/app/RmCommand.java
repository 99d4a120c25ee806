package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.RewardModel;
import dev.tgpt.rlhf.RlhfConfig;
import dev.tgpt.rlhf.data.RlhfData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rm", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "InstructGPT's step 2: a reward model (the backbone with a scalar head at each response's last token) trained on "
                + "K-way rankings with the pairwise loss over all C(K,2) pairs of a prompt.",
                "Data: JSONL, {\"prompt\",\"chosen\",\"rejected\"} or {\"prompt\",\"ranking\":[best, ..., worst]} (K = 2 to 9) per line. Writes "
                        + "OUT/metrics.jsonl (val_acc: held-out pairwise accuracy), OUT/checkpoint and OUT/reward.safetensors." })
final class RmCommand implements Callable<Integer> {

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

    @Option(names = "--init", paramLabel = "DIR", required = true, description = "The model to start from (usually the SFT checkpoint).")
    Path init;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "Rankings (JSONL); the last tenth is held out for val_acc.")
    Path data;

    @Option(names = "--demonstrations", paramLabel = "FILE", description = "SFT's demonstrations: their mean reward is set to 0 after training.")
    Path demonstrations;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/rm", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "300", description = "Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--prompts", defaultValue = "8", description = "Prompts per batch, each with all its responses. Default: ${DEFAULT-VALUE}.")
    int prompts;

    @Option(names = "--lr", defaultValue = "3e-4", description = "Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--seed", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (steps < 1 || prompts < 1) {
            throw new UserError("--steps and --prompts must be at least 1");
        }
        if (Files.exists(out.resolve("checkpoint"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        RlhfConfig.Rm c = new RlhfConfig.Rm();
        c.data = data.toString();
        c.steps = steps;
        c.prompts = prompts;
        c.lr = lr;
        c.seed = seed;
        Trainer.Options base = lora.apply(training.options());
        plan.show("", Pipeline.rmPlan(Checkpoint.header(init).config().withDropout(0f), c, Pipeline.responses(data), base),
                device.backend(), Pipeline.advice(base));
        if (plan.dryRun()) {
            return 0;
        }
        RewardModel.Result r;
        try (Progress.Stages progress = new Progress.Stages("rm", spec.commandLine().getErr())) {
            r = Pipeline.rm(Checkpoint.load(init), c, demonstrations == null ? List.of() : RlhfData.demonstrations(demonstrations), out,
                    device.backend(), base, progress);
        }
        spec.commandLine().getOut().printf("held-out pairwise accuracy %.3f%nreward model: %s%n", r.valAccuracy(), r.dir());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
