package dev.tgpt.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What one benchmark times, whoever runs it (ours, OpenBLAS, PyTorch, llm.c): a kernel ("matmul.forward") or a model
 * figure ("train_step"), at a shape, with the least work it must do, from which throughput follows.
 *
 * @param kind   "kernel" or "model"
 * @param name   op.direction for kernels; train_step, decode, ppo_iteration for models
 * @param params the shape, in the op's own letters (N, C, OC; B, H, T, d; ...), in a stable order
 * @param flops  floating-point operations of one run (0 where not meaningful)
 * @param bytes  bytes one run must read and write at least (0 where not meaningful)
 */
public record Case(String kind, String name, Map<String, Integer> params, double flops, double bytes) {

    public Case {
        params = new LinkedHashMap<>(params);
    }

    public static Case kernel(String name, Map<String, Integer> params, double flops, double bytes) {
        return new Case("kernel", name, params, flops, bytes);
    }

    public static Case model(String name, Map<String, Integer> params, double flops, double bytes) {
        return new Case("model", name, params, flops, bytes);
    }

    /** "N=1024 C=768 OC=2304". */
    public String shape() {
        return params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    /** The op of a kernel case: "matmul" of "matmul.forward". */
    public String op() {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    /** True if this and other time the same thing at the same shape. */
    public boolean sameAs(String otherName, Map<String, Integer> otherParams) {
        return name.equals(otherName) && params.equals(otherParams);
    }
}
