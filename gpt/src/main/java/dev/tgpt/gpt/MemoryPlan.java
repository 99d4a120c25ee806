package dev.tgpt.gpt;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;

/**
 * What a run will allocate, computed before anything is: weights, gradients, AdamW's moments (this rank's ZeRO-1
 * shard of them), activations for the batch and context, a sampler's decoding state, and a checkpoint being loaded.
 * Tensors live off the JVM's heap whatever the backend (a TornadoVM device holds copies), so a plan is checked against
 * what the JVM may hold and, on a TornadoVM device, against the device's memory.
 *
 * @param parts bytes by what they hold, in the order shown
 */
public record MemoryPlan(Map<String, Long> parts) {

    /**
     * A training run's plan: {@code sampling} when it samples as it goes (a batch-1 decoder), {@code loaded} the bytes of a
     * checkpoint read to start from (weights, and AdamW's moments when resuming), held while they are copied in.
     */
    public static MemoryPlan training(GptConfig c, Trainer.Options o, boolean sampling, long loaded) {
        long slab = 4 * Parameters.slabFloats(c);
        int ranks = o.world().size();
        long moments = o.zero() == 1 ? 2 * 4 * ((Parameters.slabFloats(c) + ranks - 1) / ranks) : 2 * slab;
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("weights", slab);
        parts.put("gradients", slab);
        parts.put(o.zero() == 1 ? "AdamW's moments (this rank's 1/" + ranks + ")" : "AdamW's moments", moments);
        parts.put("activations", Gpt.activationBytes(c, o.batch(), o.context()));
        if (sampling) {
            parts.put("sampling", Gpt.decoderBytes(c, 1));
        }
        if (loaded > 0) {
            parts.put("the checkpoint read", loaded);
        }
        return new MemoryPlan(parts);
    }

    /**
     * What a {@link Trainer} adds to the weights it is given: gradients, AdamW's moments and activations; every
     * trainer (fine-tuning, SFT, the reward model, PPO's) checks it against the JVM's free memory when it opens.
     * {@link #decoding} is a sampler's.
     */
    public static MemoryPlan trainer(GptConfig c, Trainer.Options o) {
        Map<String, Long> parts = new LinkedHashMap<>(training(c, o, false, 0).parts());
        parts.remove("weights");
        return new MemoryPlan(parts);
    }

    /** What a {@link Sampler} of B sequences adds to the weights: the decoder's state, KV caches of the whole context. */
    public static MemoryPlan decoding(GptConfig c, int B) {
        return new MemoryPlan(Map.of("decoding state (KV caches of " + c.context() + " positions)", Gpt.decoderBytes(c, B)));
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
    static long held() {
        return java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(java.lang.management.BufferPoolMXBean::getMemoryUsed).sum();
    }

    public static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%,d MiB", (bytes + (1 << 19)) >> 20);
    }
}
