package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Lora;
import dev.tgpt.gpt.io.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Merges a LoRA adapter into its base model's weights (W + α/r·B·A) and writes a checkpoint that needs no adapter.",
                "The adapter is PEFT's format: adapter_config.json and adapter_model.safetensors, as a --lora run writes into OUT/adapter." })
final class MergeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "The base model the adapter was trained on.")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", required = true, description = "The adapter.")
    Path adapter;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where the merged checkpoint goes (must not exist).")
    Path out;

    @Override
    public Integer call() {
        if (Files.exists(out)) {
            throw new UserError(out + " already exists; choose another --out");
        }
        Checkpoint base = Checkpoint.load(model);
        Lora lora = Lora.load(adapter, base.config());
        Checkpoint.save(out, base.config(), base.tokenizer(), lora.mergedInto(base.parameters()), null);
        spec.commandLine().getOut().printf("merged rank-%d adapter on %s into %s%n", lora.settings.rank(), lora.settings.targets(), out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
