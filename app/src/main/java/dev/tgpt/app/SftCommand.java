package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.RlhfConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "InstructGPT's step 1: supervised fine-tuning on demonstrations, the loss on response tokens only.",
                "Data: JSONL, one {\"prompt\": ..., \"completion\": ...} per line (TRL's format). Writes OUT/metrics.jsonl and OUT/checkpoint." })
final class SftCommand implements Callable<Integer> {

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

    @Option(names = "--init", paramLabel = "DIR", required = true, description = "The pretrained model (a checkpoint or a Hugging Face GPT-2 directory).")
    Path init;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "Demonstrations (JSONL); the last tenth is held out for val_loss.")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/sft", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "300", description = "Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch", defaultValue = "16", description = "Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-4", description = "Peak learning rate (warmup, then cosine to a tenth). Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (steps < 1 || batch < 1) {
            throw new UserError("--steps and --batch must be at least 1");
        }
        if (Files.exists(out.resolve("checkpoint"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        RlhfConfig.Sft c = new RlhfConfig.Sft();
        c.data = data.toString();
        c.steps = steps;
        c.batch = batch;
        c.lr = lr;
        c.seed = seed;
        Trainer.Options base = lora.apply(training.options());
        plan.show("", Pipeline.sftPlan(Checkpoint.header(init).config().withDropout(0f), c, base), device.backend(),
                Pipeline.advice(base));
        if (plan.dryRun()) {
            return 0;
        }
        Path ckpt;
        try (Progress.Stages progress = new Progress.Stages("sft", spec.commandLine().getErr())) {
            ckpt = Pipeline.sft(Checkpoint.load(init), c, out, device.backend(), base, progress);
        }
        spec.commandLine().getOut().println("checkpoint: " + ckpt);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
