package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.FineTuning;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Labelled;
import dev.tgpt.gpt.io.Checkpoint;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "GPT-1-style supervised fine-tuning: a linear classifier on the last token's final hidden state, trained with "
                + "L3 = L2 + λ·L1 (classification plus λ times language modelling on the same texts).",
                "Data: JSONL, one {\"text\": ..., \"label\": ...} per line. Writes OUT/metrics.jsonl (with val_acc), OUT/checkpoint and "
                        + "OUT/classifier.safetensors." })
final class FinetuneCommand implements Callable<Integer> {

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

    @Option(names = "--train", paramLabel = "FILE", required = true, description = "Training examples (JSONL).")
    Path train;

    @Option(names = "--val", paramLabel = "FILE", required = true, description = "Validation examples (JSONL), for val_loss and val_acc.")
    Path val;

    @Option(names = "--lambda", defaultValue = "0.5", description = "λ, the weight of the language-modelling loss (GPT-1: 0.5). Default: ${DEFAULT-VALUE}.")
    float lambda;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/finetune", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "500", description = "Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--context", description = "Tokens per text (longer texts keep their last tokens). Default: the model's context.")
    Integer context;

    @Option(names = "--lr", defaultValue = "6.25e-5", description = "Peak learning rate (GPT-1: 6.25e-5). Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--warmup", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "Default: ${DEFAULT-VALUE}.")
    float weightDecay;

    @Option(names = "--clip", defaultValue = "1.0", description = "Default: ${DEFAULT-VALUE}.")
    float clip;

    @Option(names = "--eval-every", defaultValue = "100", description = "Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Option(names = "--seed", defaultValue = "1337", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (steps < 1 || batch < 1 || evalEvery < 1) {
            throw new UserError("--steps, --batch and --eval-every must be at least 1");
        }
        if (Files.exists(TrainingRun.checkpointDir(out))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        GptConfig config = Checkpoint.header(init).config();
        int T = context != null ? context : config.context();
        if (T > config.context()) {
            throw new UserError("--context " + T + " exceeds the model's context of " + config.context());
        }
        Trainer.Options base = lora.apply(training.options());
        Trainer.Options o = base.batch(batch).context(T).steps(steps).accumulation(1).lr(lr).minLr(0f).warmup(warmup).weightDecay(weightDecay).beta1(0.9f).beta2(0.999f).eps(1e-8f).gradClip(clip).seed(seed);
        plan.show("", MemoryPlan.training(config, o, false, 0), device.backend(), MemoryPlan.advice(o));
        if (plan.dryRun()) {
            return 0;
        }
        Checkpoint start = Checkpoint.load(init);
        if (start.tokenizer() == null) {
            throw new UserError(init + " names no tokenizer, so its texts cannot be encoded");
        }
        Labelled trainSet = Labelled.read(train, start.tokenizer(), null, T);
        Labelled valSet = Labelled.read(val, start.tokenizer(), trainSet.labels(), T);
        var err = spec.commandLine().getErr();
        FineTuning.Result r;
        try (ProgressBar bar = Progress.bar("finetune", steps)) {
            r = FineTuning.run(new Gpt(start.config(), start.parameters()).trainedAs(o), start.tokenizer(), trainSet, valSet, device.backend(),
                    new FineTuning.Settings(o, lambda, evalEvery, out), new TrainingRun.Listener() {
                        @Override
                        public void step(int step, int total, float loss, Float valLoss, double tokensPerSecond) {
                            bar.stepTo(step);
                            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f", loss));
                        }

                        @Override
                        public void message(String line) {
                            Progress.above(bar, err, line);
                        }
                    });
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "%d steps: loss %.4f, val loss %.4f, val accuracy %.3f%ncheckpoint: %s%n", r.steps(), r.loss(),
                r.valLoss(), r.valAccuracy(), r.checkpoint());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
