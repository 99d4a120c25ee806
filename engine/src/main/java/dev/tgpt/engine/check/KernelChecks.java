package dev.tgpt.engine.check;

import java.util.List;

/** Every op's self-check, in the order {@code ./tgpt kernels --check} prints them. */
public final class KernelChecks {

    private KernelChecks() {
    }

    public static List<OpCheck> all() {
        return List.of(new LayerNormCheck(), new SparseAttentionCheck());
    }
}
