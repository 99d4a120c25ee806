package dev.tgpt.app;

import dev.tgpt.engine.ops.QuantMatmulOps;
import picocli.CommandLine.Option;

/** How the commands that decode hold the matmul weights: as trained, or packed into bf16 or int8 when loaded. */
final class WeightsOption {

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "fp32", description = "Matmul weights for decoding: fp32 (as trained), "
            + "bf16 or int8 (packed when loaded, per 32 weights a scale, as GGUF's Q8_0): fewer bytes to read a token, a little "
            + "accuracy lost (bench/README.md). Default: ${DEFAULT-VALUE}.")
    String weights;

    QuantMatmulOps.Format format() {
        return QuantMatmulOps.Format.parse(weights);
    }
}
