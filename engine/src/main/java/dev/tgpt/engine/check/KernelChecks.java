package dev.tgpt.engine.check;

import java.util.List;

/** Every op's self-check, in the order {@code ./tgpt kernels --check} prints them. */
public final class KernelChecks {

    private KernelChecks() {
    }

    public static List<OpCheck> all() {
        return List.of(new EmbeddingCheck(), new LayerNormCheck(), new MatmulCheck(), new LoraCheck(), new QuantMatmulCheck(), new SoftmaxCheck(), new GeluCheck(), new DropoutCheck(),
                new ResidualCheck(), new GatherCheck(), new AttentionCheck(), new SparseAttentionCheck(), new DecodeCheck(), new CrossEntropyCheck(), new GradNormCheck(), new AdamWCheck(),
                new RankingCheck(), new DpoCheck(), new PpoCheck(), new GrpoCheck(), new RolloutCheck());
    }
}
