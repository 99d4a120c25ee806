package dev.tgpt.app;

import java.nio.file.Path;

import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Lora;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.io.Checkpoint;
import picocli.CommandLine.Option;

/**
 * How the commands that decode hold the weights: as trained, with a LoRA adapter merged in, and the matmul weights
 * packed into bf16 or int8 when loaded.
 */
final class WeightsOption {

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "fp32", description = "Matmul weights for decoding: fp32 (as trained), "
            + "bf16 or int8 (packed when loaded, per 32 weights a scale, as GGUF's Q8_0): fewer bytes to read a token, a little "
            + "accuracy lost (bench/README.md). Default: ${DEFAULT-VALUE}.")
    String weights;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A LoRA adapter in PEFT's format (what --lora runs save in OUT/adapter), "
            + "merged into the model's weights when loaded.")
    Path adapter;

    QuantMatmulOps.Format format() {
        return QuantMatmulOps.Format.parse(weights);
    }

    /** The checkpoint's model as decoding runs it: no dropout, the adapter merged in, the weights packed. */
    Gpt model(Checkpoint ckpt) {
        Parameters p = adapter == null ? ckpt.parameters() : Lora.load(adapter, ckpt.config()).mergedInto(ckpt.parameters());
        return new Gpt(ckpt.config().withDropout(0f), p).decodingWith(format());
    }

    /** What these options add to the weights: the packed weights, and a merged copy of the weights with an adapter. */
    MemoryPlan plan(GptConfig c) {
        MemoryPlan packed = MemoryPlan.packed(c, format());
        return adapter == null ? packed : packed.plus(MemoryPlan.weights(c).times(1, "with the adapter merged"));
    }
}
