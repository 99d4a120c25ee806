package dev.tgpt.gpt;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.QuantMatmulOps;

/**
 * What a run will allocate, computed before anything is: weights, gradients, AdamW's moments (this rank's ZeRO-1
 * shard of them), activations for the batch and context, a sampler's decoding state, and a checkpoint being loaded.
 * Tensors live off the JVM's heap whatever the backend (a TornadoVM device holds copies), so a plan is checked against
 * what the JVM may hold and, on a TornadoVM device, against the device's memory.
 *
 * @param parts   bytes by what they hold, in the order shown
 * @param largest the largest single array and its bytes (a device allocates each as one buffer), or null
 */
public record MemoryPlan(Map<String, Long> parts, Map.Entry<String, Long> largest) {

    public MemoryPlan(Map<String, Long> parts) {
        this(parts, null);
    }

    /**
     * A training run's plan: {@code sampling} when it samples as it goes (a batch-1 decoder), {@code loaded} the bytes of a
     * checkpoint read to start from (weights, and AdamW's moments when resuming), held while they are copied in.
     */
    public static MemoryPlan training(GptConfig c, Trainer.Options o, boolean sampling, long loaded) {
        MemoryPlan plan = weights(c).plus(trainer(c, o));
        if (sampling) {
            plan = plan.with("sampling", Gpt.samplerFootprint(c, 1), "the sampler's");
        }
        return loaded > 0 ? plan.with("the checkpoint read", loaded) : plan;
    }

    /** One model's weights. */
    public static MemoryPlan weights(GptConfig c) {
        long slab = 4 * Parameters.slabFloats(c);
        return new MemoryPlan(Map.of()).with("weights", slab).array("the weights' slab", slab);
    }

    /**
     * What a {@link Trainer} adds to the weights it is given: gradients, AdamW's moments (this rank's ZeRO-1 shard of
     * them) and activations; with LoRA the adapters, their gradients and moments instead of the weights'; every trainer (fine-tuning, SFT, the reward model, PPO's) checks it against the JVM's free
     * memory when it opens.
     */
    public static MemoryPlan trainer(GptConfig c, Trainer.Options o) {
        if (o.lora() != null) {
            long adapters = 4 * Lora.floats(c, o.lora());
            return new MemoryPlan(Map.of()).with("LoRA adapters", adapters).with("adapters' gradients", adapters)
                    .with("AdamW's moments (adapters)", 2 * adapters)
                    .with(o.recompute() ? "activations (recomputed in part)" : "activations",
                            Gpt.activationFootprint(c, o.batch(), o.context(), o.recompute(), o.lora()), "the activations'");
        }
        long slab = Parameters.slabFloats(c);
        int ranks = o.world().size();
        long moment = 4 * (o.zero() == 1 ? (slab + ranks - 1) / ranks : slab);
        return new MemoryPlan(Map.of()).with("gradients", 4 * slab).array("the gradients' slab", 4 * slab)
                .with(o.zero() == 1 ? "AdamW's moments (this rank's 1/" + ranks + ")" : "AdamW's moments", 2 * moment)
                .with(o.recompute() ? "activations (recomputed in part)" : "activations", Gpt.activationFootprint(c, o.batch(), o.context(), o.recompute()),
                        "the activations'");
    }

    /** What {@link Gpt#decodingWith} adds to the weights: the matmul weights packed as f (fp32: nothing). */
    public static MemoryPlan packed(GptConfig c, QuantMatmulOps.Format f) {
        if (f == QuantMatmulOps.Format.FP32) {
            return new MemoryPlan(Map.of());
        }
        long C = c.channels();
        QuantMatmulOps.requireWholeBlocks(f, C); // refused before anything is allocated
        long bytes = c.layers() * f.bytes(12 * C, C) + f.bytes(c.vocabSize(), C);
        return new MemoryPlan(Map.of()).with(f + " weights for decoding", bytes).array("the packed weights", bytes);
    }

    /** What a {@link Sampler} of B sequences adds to the weights: the decoder's state (KV caches of the whole context) and the prefill's. */
    public static MemoryPlan decoding(GptConfig c, int B) {
        return new MemoryPlan(Map.of()).with("decoding state (KV caches of " + c.context() + " positions)", Gpt.samplerFootprint(c, B), "the decoder's");
    }

    /** What {@link Gradients#compute} allocates: weights, gradients and activations of one batch. */
    public static MemoryPlan gradients(GptConfig c, int B, int T) {
        long slab = 4 * Parameters.slabFloats(c);
        return weights(c).with("gradients", slab).with("activations", Gpt.activationFootprint(c, B, T, false), "the activations'");
    }

    /** This plan with {@code bytes} more for {@code part} (added to a part of that name). */
    public MemoryPlan with(String part, long bytes) {
        Map<String, Long> more = new LinkedHashMap<>(parts);
        more.merge(part, bytes, Long::sum);
        return new MemoryPlan(more, largest);
    }

    /** This plan with a set of activations as {@code part}, its largest array named after {@code whose}. */
    public MemoryPlan with(String part, Gpt.Footprint f, String whose) {
        return with(part, f.bytes()).array("the largest of " + whose + " arrays", f.largest());
    }

    /** This plan, noting one array of {@code bytes} (kept if it is the largest yet). */
    public MemoryPlan array(String name, long bytes) {
        return largest != null && largest.getValue() >= bytes ? this : new MemoryPlan(parts, Map.entry(name, bytes));
    }

    /** This plan and another's parts, e.g. a model's weights and what its trainer adds. */
    public MemoryPlan plus(MemoryPlan other) {
        MemoryPlan sum = this;
        for (Map.Entry<String, Long> e : other.parts.entrySet()) {
            sum = sum.with(e.getKey(), e.getValue());
        }
        return other.largest == null ? sum : sum.array(other.largest.getKey(), other.largest.getValue());
    }

    /** This plan n times over, its parts renamed "part (what)", e.g. the weights of 4 models in PPO. */
    public MemoryPlan times(int n, String what) {
        Map<String, Long> many = new LinkedHashMap<>();
        parts.forEach((k, v) -> many.put(k + " (" + what + ")", n * v));
        return new MemoryPlan(many, largest);
    }

    /** What would make a training plan fit, in the options' own terms (one clause, for {@link #check}'s line). */
    public static String advice(Trainer.Options o) {
        return "use a smaller --batch or --context (--accumulation keeps the tokens per step)" + (o.recompute() ? "" : ", --recompute")
                + ", a smaller model, or --zero 1 with more ranks";
    }

    public long total() {
        return parts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** e.g. "weights 475 MiB + gradients 475 MiB + ... = 2.1 GiB". */
    public String describe() {
        return parts.entrySet().stream().map(e -> e.getKey() + " " + size(e.getValue())).collect(Collectors.joining(" + ")) + " = "
                + size(total());
    }

    /**
     * Refuses, before anything is allocated, a plan the JVM or the device cannot hold: one line naming what is needed,
     * what there is, and {@code advice} (what would make it fit).
     */
    public void check(Backend backend, String advice) {
        long most = backend.info().maxAllocationBytes();
        if (largest != null && most > 0 && largest.getValue() > most) {
            throw new UserError("this run needs one array of " + size(largest.getValue()) + " (" + largest.getKey() + ") and device "
                    + backend.info().id() + " allocates at most " + size(most) + " at once: " + advice);
        }
        long host = JvmBackend.maxTensorMemory();
        if (total() > host) {
            throw new UserError("this run needs " + size(total()) + " of memory (" + describe() + ") and the JVM may hold " + size(host)
                    + " of tensors: " + advice + ", or give the JVM more with TGPT_MEMORY (./tgpt sets it from this machine's RAM)");
        }
        if (backend instanceof JvmBackend) {
            return;
        }
        long device = backend.info().memoryBytes();
        if (device > 0 && total() > device) {
            throw new UserError("this run needs " + size(total()) + " of device memory (" + describe() + ") and device " + backend.info().id()
                    + " has " + size(device) + ": " + advice);
        }
        // TornadoVM lets one execution plan (a training session) use -Dtornado.device.memory of a device: 4GB unless told
        String cap = System.getProperty(TORNADO_CAP, "4GB");
        if (total() > bytes(cap)) {
            throw new UserError("this run needs " + size(total()) + " of device memory (" + describe() + ") and TornadoVM lets a program use " + cap
                    + " of device " + backend.info().id() + (device > 0 ? " (it has " + size(device) + ")" : "") + ": raise that with TGPT_JAVA_OPTS=-D"
                    + TORNADO_CAP + "=<N>GB, or " + advice);
        }
    }

    static final String TORNADO_CAP = "tornado.device.memory";

    /** "4GB", "512MB", "1024KB" or a number of bytes, as TornadoVM reads its memory option. */
    static long bytes(String size) {
        String s = size.trim().toUpperCase(Locale.ROOT);
        for (String[] unit : new String[][] { { "GB", "30" }, { "MB", "20" }, { "KB", "10" } }) {
            if (s.endsWith(unit[0])) {
                return Long.parseLong(s.substring(0, s.length() - 2).trim()) << Integer.parseInt(unit[1]);
            }
        }
        return Long.parseLong(s);
    }

    /**
     * Refuses a plan larger than what the JVM may still allocate for tensors (its limit less what it holds now: the
     * weights, other models), before any of it is allocated.
     */
    public void checkFree(String what, String advice) {
        long free = JvmBackend.maxTensorMemory() - held();
        if (total() > free) {
            throw new UserError(what + " needs " + size(total()) + " more memory (" + describe() + ") and the JVM has " + size(Math.max(0, free))
                    + " left for tensors: " + advice + ", or give the JVM more with TGPT_MEMORY (./tgpt sets it from this machine's RAM)");
        }
    }

    /** Bytes of off-heap memory the JVM holds now (every tensor's memory is reserved there). */
    public static long held() {
        return java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(java.lang.management.BufferPoolMXBean::getMemoryUsed).sum();
    }

    /**
     * {@link #held} once arrays no longer reachable are freed (a collection, then the cleaner's frees, until the figure
     * settles): a baseline for measuring what code allocates, which a collection during the measurement cannot lower.
     */
    public static long heldAfterCollection() {
        long held = held();
        for (int i = 0; i < 20; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = held();
            if (now == held) {
                break;
            }
            held = now;
        }
        return held;
    }

    public static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%,d MiB", (bytes + (1 << 19)) >> 20);
    }
}
