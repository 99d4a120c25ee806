package dev.tgpt.gpt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.Slab;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * LoRA adapters (Hu et al. 2021) on a GPT's linear layers: each targeted W [out, in] of each block gets a trained pair
 * A [r, in], B [out, r], and computes x·Wᵀ + b + (α/r)·(x·Aᵀ)·Bᵀ while W stays frozen. A starts as PEFT's does
 * (Kaiming-uniform, bound 1/√in), B at 0, so the adapted model starts as the base. All tensors are views of one
 * {@link Slab}, as a model's parameters are (the same shape serves as their gradients and AdamW's moments). Saved in
 * PEFT's format for GPT-2 (adapter_config.json, adapter_model.safetensors with PEFT's tensor names), and merged into
 * a copy of the base for decoding and for checkpoints the next step reads.
 */
public final class Lora {

    /** A linear layer of a block that can carry an adapter, by the name of its module in Hugging Face's GPT-2. */
    public enum Target {
        QKV("attn.c_attn"), PROJ("attn.c_proj"), FC("mlp.c_fc"), FCPROJ("mlp.c_proj");

        public final String module;

        Target(String module) {
            this.module = module;
        }

        /** in, out of this layer in a model {@code C} wide. */
        int[] shape(int C) {
            return switch (this) {
                case QKV -> new int[] { C, 3 * C };
                case PROJ -> new int[] { C, C };
                case FC -> new int[] { C, 4 * C };
                case FCPROJ -> new int[] { 4 * C, C };
            };
        }

        /** "qkv,proj" (any case) to the targets named; an unknown name is a user's mistake. */
        public static EnumSet<Target> parse(String names) {
            EnumSet<Target> out = EnumSet.noneOf(Target.class);
            for (String n : names.split(",")) {
                try {
                    out.add(valueOf(n.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new UserError("no LoRA target '" + n.trim() + "'; targets: qkv, proj, fc, fcproj");
                }
            }
            return out;
        }
    }

    /** Rank r, α (the update is scaled by α/r) and the layers adapted. */
    public record Settings(int rank, float alpha, EnumSet<Target> targets) {

        public Settings {
            if (rank < 1) {
                throw new UserError("the LoRA rank must be at least 1, not " + rank);
            }
            if (!(alpha > 0) || Float.isInfinite(alpha)) {
                throw new UserError("LoRA's alpha must be a positive number, not " + alpha);
            }
            if (targets.isEmpty()) {
                throw new UserError("LoRA needs at least one target layer");
            }
            targets = EnumSet.copyOf(targets);
        }

        public float scale() {
            return alpha / rank;
        }
    }

    /** One adapted layer's pair. */
    public record Pair(FloatArray a, FloatArray b) {
    }

    static final String CONFIG = "adapter_config.json";
    static final String WEIGHTS = "adapter_model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Settings settings;
    public final GptConfig config;
    private final Slab slab;
    /** pairs[layer][target.ordinal()], null where not adapted. */
    private final Pair[][] pairs;
    private final List<Parameters.Tensor> tensors = new ArrayList<>();

    /** Adapters of zeros (gradients, moments); {@link #initialise} makes them a fresh adapter. */
    public Lora(GptConfig config, Settings settings) {
        this.config = config;
        this.settings = settings;
        int C = config.channels();
        int r = settings.rank();
        slab = new Slab(sizes(config, settings));
        pairs = new Pair[config.layers()][Target.values().length];
        int v = 0;
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : settings.targets()) {
                int[] s = t.shape(C);
                Pair p = new Pair(slab.view(v++), slab.view(v++));
                pairs[l][t.ordinal()] = p;
                String name = "base_model.model.transformer.h." + l + "." + t.module;
                tensors.add(new Parameters.Tensor(name + ".lora_A.weight", new int[] { r, s[0] }, false, true, false, p.a()));
                tensors.add(new Parameters.Tensor(name + ".lora_B.weight", new int[] { s[1], r }, false, true, false, p.b()));
            }
        }
    }

    /** Floats of an adapter set of this shape (one slab, with its alignment), counted without allocating it. */
    public static long floats(GptConfig config, Settings settings) {
        return Slab.floats(sizes(config, settings));
    }

    /** Each tensor's size in slab order: per layer, per target, A [r, in] then B [out, r]. */
    private static int[] sizes(GptConfig config, Settings settings) {
        List<Integer> sizes = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : settings.targets()) {
                int[] s = t.shape(config.channels());
                sizes.add(settings.rank() * s[0]);
                sizes.add(s[1] * settings.rank());
            }
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A fresh adapter: A Kaiming-uniform as PEFT's (bound 1/√in), B = 0. */
    public Lora initialise(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Pair[] layer : pairs) {
            for (Pair p : layer) {
                if (p == null) {
                    continue;
                }
                int in = p.a().getSize() / settings.rank();
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < p.a().getSize(); i++) {
                    p.a().set(i, (float) ((2 * random.nextDouble() - 1) * bound));
                }
            }
        }
        return this;
    }

    /** Layer l's pair for this target, or null. */
    public Pair pair(int l, Target t) {
        return pairs[l][t.ordinal()];
    }

    /** The whole slab: one device array. */
    public FloatArray all() {
        return slab.base();
    }

    /** The tensors by PEFT's names, in a fixed order. */
    public List<Parameters.Tensor> tensors() {
        return tensors;
    }

    /** A copy of {@code base} with every adapter's update added to its weight: W + (α/r)·B·A. */
    public Parameters mergedInto(Parameters base) {
        Parameters out = new Parameters(base.config);
        out.all().getSegment().copyFrom(base.all().getSegment());
        int r = settings.rank();
        float s = settings.scale();
        for (int l = 0; l < config.layers(); l++) {
            Parameters.Layer w = out.layers[l];
            FloatArray[] weights = { w.qkvw(), w.attprojw(), w.fcw(), w.fcprojw() };
            for (Target t : settings.targets()) {
                Pair p = pair(l, t);
                FloatArray W = weights[t.ordinal()];
                int in = p.a().getSize() / r;
                int outs = p.b().getSize() / r;
                for (int o = 0; o < outs; o++) {
                    for (int i = 0; i < in; i++) {
                        double sum = 0;
                        for (int k = 0; k < r; k++) {
                            sum += (double) p.b().get(o * r + k) * p.a().get(k * in + i);
                        }
                        W.set(o * in + i, (float) (W.get(o * in + i) + s * sum));
                    }
                }
            }
        }
        return out;
    }

    /** Writes PEFT's adapter_config.json and adapter_model.safetensors into dir (created). */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            ObjectNode c = JSON.createObjectNode();
            c.put("peft_type", "LORA");
            c.put("task_type", "CAUSAL_LM");
            c.put("r", settings.rank());
            c.put("lora_alpha", settings.alpha());
            c.put("lora_dropout", 0.0);
            c.put("bias", "none");
            // GPT-2's Conv1D keeps its weight as [in, out]; the adapters are nn.Linear's [r, in] and [out, r] all the same
            c.put("fan_in_fan_out", true);
            c.put("inference_mode", true);
            c.putNull("base_model_name_or_path");
            var modules = c.putArray("target_modules");
            settings.targets().forEach(t -> modules.add(t.module));
            dev.tgpt.engine.io.AtomicFile.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n");
            Map<String, Safetensors.Entry> entries = new LinkedHashMap<>();
            for (Parameters.Tensor t : tensors) {
                entries.put(t.name(), new Safetensors.Entry(new long[] { t.shape()[0], t.shape()[1] }, t.data()));
            }
            Safetensors.write(dir.resolve(WEIGHTS), entries, Map.of("format", "pt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * PEFT's options that change what an adapter computes beyond y += (α/r)·B·A·x on every targeted layer: read as if
     * absent they would give other outputs than PEFT's, so an adapter that sets one is refused.
     */
    private static void refuseUnsupported(Path config, JsonNode c) {
        Map<String, String> unsupported = new LinkedHashMap<>();
        unsupported.put("use_dora", "DoRA");
        unsupported.put("use_rslora", "rank-stabilised LoRA (α/√r)");
        unsupported.put("lora_bias", "a trained bias in lora_B");
        unsupported.put("rank_pattern", "per-layer ranks");
        unsupported.put("alpha_pattern", "per-layer alphas");
        unsupported.put("layers_to_transform", "adapters on some layers only");
        unsupported.put("modules_to_save", "fully trained extra modules");
        unsupported.put("target_parameters", "adapters on parameters");
        for (var e : unsupported.entrySet()) {
            JsonNode v = c.path(e.getKey());
            boolean set = v.isBoolean() ? v.asBoolean() : v.isContainerNode() ? !v.isEmpty() : !v.isMissingNode() && !v.isNull();
            if (set) {
                throw new UserError(config + ": " + e.getKey() + " (" + e.getValue() + ") is not supported; tgpt reads plain LoRA adapters");
            }
        }
        if (!c.path("bias").isMissingNode() && !"none".equals(c.path("bias").asText())) {
            throw new UserError(config + ": bias \"" + c.path("bias").asText()
                    + "\" (trained biases) is not supported; tgpt reads adapters with bias \"none\"");
        }
    }

    /** An adapter saved by {@link #save} (or by PEFT for GPT-2 with these names), for a model of {@code config}. */
    public static Lora load(Path dir, GptConfig config) {
        Path file = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(dir.resolve(CONFIG)) || !Files.isRegularFile(file)) {
            throw new UserError(dir + " is not a LoRA adapter: it needs " + CONFIG + " and " + WEIGHTS);
        }
        JsonNode c;
        try {
            c = JSON.readTree(dir.resolve(CONFIG).toFile());
        } catch (IOException e) {
            throw new UserError(dir.resolve(CONFIG) + ": " + e.getMessage());
        }
        if (!"LORA".equals(c.path("peft_type").asText()) || !c.path("r").canConvertToInt() || !c.path("lora_alpha").isNumber()
                || !c.path("target_modules").isArray()) {
            throw new UserError(dir.resolve(CONFIG) + ": not a LoRA config (peft_type LORA, r, lora_alpha and target_modules expected)");
        }
        refuseUnsupported(dir.resolve(CONFIG), c);
        EnumSet<Target> targets = EnumSet.noneOf(Target.class);
        for (JsonNode m : c.get("target_modules")) {
            // PEFT matches a name as a suffix: "c_proj" is both attn.c_proj and mlp.c_proj
            List<Target> named = EnumSet.allOf(Target.class).stream().filter(t -> t.module.equals(m.asText()) || t.module.endsWith("." + m.asText()))
                    .toList();
            if (named.isEmpty()) {
                throw new UserError(dir.resolve(CONFIG) + ": target module " + m + " is not one of GPT-2's attn.c_attn, attn.c_proj, mlp.c_fc, "
                        + "mlp.c_proj");
            }
            targets.addAll(named);
        }
        Lora lora = new Lora(config, new Settings(c.get("r").asInt(), (float) c.get("lora_alpha").asDouble(), targets));
        try (Safetensors st = Safetensors.open(file)) {
            for (Parameters.Tensor t : lora.tensors) {
                if (!st.tensors().containsKey(t.name())) {
                    throw new UserError(file + " has no " + t.name() + ": the adapter does not fit this model (" + config.layers() + " layers)");
                }
                FloatArray got = st.floats(t.name());
                if (got.getSize() != t.size()) {
                    throw new UserError(file + ": " + t.name() + " has " + got.getSize() + " values; this model's needs " + t.size());
                }
                t.data().getSegment().copyFrom(got.getSegment());
            }
        }
        return lora;
    }
}
