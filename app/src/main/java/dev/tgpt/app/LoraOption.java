package dev.tgpt.app;

import dev.tgpt.gpt.Lora;
import dev.tgpt.gpt.Trainer;
import picocli.CommandLine.Option;

/** LoRA on the commands that fine-tune a model: adapters train, the weights stay frozen, the optimizer holds only the adapters. */
final class LoraOption {

    @Option(names = "--lora", paramLabel = "R", description = "Train LoRA adapters of rank R instead of every weight (0: off). Default: 0.")
    int rank;

    @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA's α: the update is scaled by α/R. Default: 2·R.")
    Float alpha;

    @Option(names = "--lora-targets", paramLabel = "LAYERS", defaultValue = "qkv,proj,fc,fcproj",
            description = "The linear layers of every block that get adapters: qkv, proj, fc, fcproj. Default: ${DEFAULT-VALUE}.")
    String targets;

    /** These options with the LoRA settings given, if any. */
    Trainer.Options apply(Trainer.Options o) {
        if (rank == 0) {
            return o;
        }
        return o.lora(new Lora.Settings(rank, alpha == null ? 2f * rank : alpha, Lora.Target.parse(targets)));
    }
}
