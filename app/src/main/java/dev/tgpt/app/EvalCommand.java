package dev.tgpt.app;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.DecodingLoss;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.io.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "The validation loss of a checkpoint as it generates: next-token cross-entropy through the decoding program (KV "
                + "cache, and the packed weights of --weights), over windows spread evenly across the validation split of --data "
                + "(the split train makes of a text file; a .bin token file is taken whole)." })
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    PlanOption plan;

    @Mixin
    WeightsOption weights;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A checkpoint directory, a Hugging Face GPT-2 directory, or llm.c's model file.")
    Path model;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "A text file (its validation split) or a .bin token file.")
    Path data;

    @Option(names = "--windows", defaultValue = "16", description = "Windows decoded side by side. Default: ${DEFAULT-VALUE}.")
    int windows;

    @Option(names = "--context", description = "Positions a window. Default: the model's context.")
    Integer context;

    @Override
    public Integer call() {
        GptConfig config = Checkpoint.header(model).config();
        int T = context != null ? context : config.context();
        if (windows < 1 || T < 1 || T > config.context()) {
            throw new UserError("--windows must be at least 1 and --context in 1.." + config.context());
        }
        plan.show("", MemoryPlan.weights(config).plus(weights.plan(config)).plus(MemoryPlan.decoding(config, windows)),
                device.backend(), "use fewer --windows, or a smaller model");
        if (plan.dryRun()) {
            return 0;
        }
        Checkpoint ckpt = Checkpoint.load(model);
        if (ckpt.tokenizer() == null && !data.toString().endsWith(".bin")) {
            throw new UserError(model + " names no tokenizer, so " + data + " cannot be encoded; give a .bin token file");
        }
        int[] tokens = data.toString().endsWith(".bin") ? Dataset.fromTokenFiles(data, data).val() : Dataset.fromText(data, ckpt.tokenizer()).val();
        Gpt gpt = weights.model(ckpt);
        double loss = DecodingLoss.of(gpt, device.backend(), tokens, windows, T);
        spec.commandLine().getOut().printf(Locale.ROOT, "val loss %.5f (%s weights; %d windows of %d positions)%n", loss, weights.format(), windows, T);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
