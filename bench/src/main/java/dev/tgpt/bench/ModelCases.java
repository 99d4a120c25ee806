package dev.tgpt.bench;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.DeviceInfo;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Lora;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.rlhf.KlController;
import dev.tgpt.rlhf.Ppo;
import dev.tgpt.rlhf.RewardHead;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Whole-model figures of {@code ./tgpt bench}, on random weights (timings do not depend on them): a training step,
 * batch-1 decoding, and a PPO iteration in three parts. Every case's params name the model (L layers, H heads, C wide,
 * context T, vocabulary V), so bench/python/torch_models.py builds the same one from them.
 *
 * <p>Flop counts are 2 per multiply-add of the matmuls: the blocks' weights (12·C² a layer: qkv 3C², projection C²,
 * MLP 8C²) and the output layer tied to wte (V·C) for each token, and causal attention (QKᵀ and att·V over the lower
 * triangle, C·T(T+1)/2 multiply-adds each per layer and sequence); backward is twice forward. Biases, layer norms,
 * GELU, softmax and AdamW are left out (under 2% here).
 */
public final class ModelCases {

    /** The README's main job: the character-level Shakespeare model (4 layers, 4 heads, 128 wide, context 64, 65 characters). */
    static final GptConfig CHAR = GptConfig.preset("shakespeare-char");
    /** GPT-2 small's shape (124M parameters) for decoding at a realistic size. */
    static final GptConfig GPT2 = GptConfig.preset("gpt2");
    /** llm.c's train_gpt2.c hard-codes batch 4 (and T = 64); the main job trains at batch 32. */
    static final int LLMC_BATCH = 4;
    static final int MAIN_BATCH = 32;
    /** LoRA's rank in the adapter cases (PEFT's default r = 8; α = 2r, as ./tgpt --lora defaults). */
    static final int LORA_RANK = 8;
    /** Timed runs where one run takes seconds (GPT-2 decoding, a PPO iteration), after the warm-up runs. */
    static final int FEW_RUNS = 3;
    static final String PPO = "ppo_iteration.";
    static final List<String> PPO_PARTS = List.of(PPO + "generate", PPO + "score", PPO + "update");

    private ModelCases() {
    }

    /** The cases; quick leaves out GPT-2-sized decoding and runs a smaller PPO iteration. */
    public static List<Case> cases(boolean quick) {
        List<Case> out = new ArrayList<>();
        out.add(trainStep(CHAR, LLMC_BATCH, CHAR.context(), 0));
        out.add(trainStep(CHAR, MAIN_BATCH, CHAR.context(), 0));
        out.add(trainStep(CHAR, MAIN_BATCH, CHAR.context(), LORA_RANK));
        out.add(decode(CHAR, 1, 48, QuantMatmulOps.Format.FP32));
        if (!quick) {
            out.add(trainStep(GPT2, LLMC_BATCH, CHAR.context(), 0));
            out.add(trainStep(GPT2, LLMC_BATCH, CHAR.context(), LORA_RANK));
            for (QuantMatmulOps.Format f : QuantMatmulOps.Format.values()) {
                out.add(readWeights(GPT2, f));
                out.add(decode(GPT2, 1, 64, f));
                out.add(prefill(GPT2, 512, f));
            }
            // every position of the context: by the last, a step also reads 75 MB of cached keys and values
            out.add(decode(GPT2, 1, GPT2.context() - 1, QuantMatmulOps.Format.FP32));
        }
        // InstructGPT demo's PPO settings (rlhf's defaults): 32 rollouts, minibatch 16, 2 epochs, responses of up to 40
        out.addAll(quick ? ppo(CHAR, 8, 4, 1, 8, 40) : ppo(CHAR, 32, 16, 2, 8, 40));
        return out;
    }

    /**
     * A data-centre GPU's model cases (issue 19): GPT-2 124M's training step at B = 8, T = 1,024 (full and LoRA r 8),
     * its batch-1 decoding in fp32, bf16 and int8 and its 512-token prefill, and the demo's PPO iteration.
     */
    public static List<Case> gpu() {
        List<Case> out = new ArrayList<>();
        out.add(trainStep(GPT2, 8, GPT2.context(), 0));
        out.add(trainStep(GPT2, 8, GPT2.context(), LORA_RANK));
        for (QuantMatmulOps.Format f : QuantMatmulOps.Format.values()) {
            out.add(decode(GPT2, 1, 64, f));
        }
        out.add(prefill(GPT2, 512, QuantMatmulOps.Format.FP32));
        out.addAll(ppo(CHAR, 32, 16, 2, 8, 40));
        return out;
    }

    /**
     * One optimizer step on B sequences of T tokens (the case's model has context T); with R > 0 of LoRA adapters of
     * rank R on every block's four matmuls (param R), the rest frozen: no weight gradients (backward is one product
     * instead of two), and the adapters' products, 16·C·R multiply-adds a layer and token each way (A: C or 4C in, B:
     * 3C, C, 4C or C out), three times over.
     */
    static Case trainStep(GptConfig m, int B, int T, int R) {
        m = new GptConfig(m.style(), m.vocabSize(), T, m.layers(), m.heads(), m.channels(), 0f, m.band());
        double attention = 6.0 * m.layers() * m.channels() * B * T * (T + 1.0);
        if (R == 0) {
            return Case.model("train_step", with(m, "B", B), 6.0 * weightMacs(m) * B * T + attention, 0);
        }
        double adapters = 16.0 * m.layers() * m.channels() * R;
        return Case.model("train_step", with(m, "B", B, "R", R), (4.0 * weightMacs(m) + 6.0 * adapters) * B * T + attention, 0);
    }

    /**
     * Batch-1 decoding of N tokens after a prompt of P; a run's figure is per position. The cases take P = 1, so that
     * every position is one step of the KV-cache program, as in PyTorch's case: a longer prompt is prefilled in
     * launches of 64 rows, which would add a prefill of 64 rows, however short the prompt, to the steps (the prefill
     * case times that). Flops and bytes are a step's at the mean position: the weights once, the cache's keys and
     * values once (bytes: what batch-1 decoding must read).
     */
    static Case decode(GptConfig m, int P, int N, QuantMatmulOps.Format f) {
        if (P + N > m.context()) {
            throw new IllegalArgumentException("prompt and generated tokens exceed the context");
        }
        double meanKeys = (P - 1 + N + 1) / 2.0;
        double cacheMacs = 2.0 * m.layers() * m.channels() * meanKeys;
        return Case.model("decode", with(m, "B", 1, "P", P, "N", N, "W", f.bits), 2 * (weightMacs(m) + cacheMacs),
                weightBytes(m, f) + 4 * cacheMacs);
    }

    /** The time to the first token of a P-token prompt, batch 1, matmul weights held as f: its prefill, then one decoding step. */
    static Case prefill(GptConfig m, int P, QuantMatmulOps.Format f) {
        return Case.model("prefill", with(m, "B", 1, "P", P, "W", f.bits), 2 * weightMacs(m) * P + 2.0 * m.layers() * m.channels() * P * (P + 1),
                0);
    }

    /**
     * The floor of a decoding step: reading the matmul weights once, as stored in format f, by the JVM backend's
     * threads (a sum of every float, in vectors, 4 sums in flight per thread); bytes: those weights.
     */
    static Case readWeights(GptConfig m, QuantMatmulOps.Format f) {
        return Case.model("read_weights", with(m, "W", f.bits), 0, weightBytes(m, f));
    }

    /** Bytes of the blocks' weight matrices and the output layer, held as f (int8: with its scales). */
    static double weightBytes(GptConfig m, QuantMatmulOps.Format f) {
        return (double) f.bytes(1, (long) weightMacs(m));
    }

    static QuantMatmulOps.Format format(Case c) {
        int bits = c.params().getOrDefault("W", 32);
        return java.util.Arrays.stream(QuantMatmulOps.Format.values()).filter(f -> f.bits == bits).findFirst().orElseThrow();
    }

    /** One PPO iteration of R rollouts (prompts of P tokens, responses of at most N), minibatches of B, E epochs: three records. */
    static List<Case> ppo(GptConfig m, int R, int B, int E, int P, int N) {
        Map<String, Integer> params = with(m, "R", R, "B", B, "E", E, "P", P, "N", N);
        return PPO_PARTS.stream().map(name -> Case.model(name, params, 0, 0)).toList();
    }

    /** Multiply-adds per token of the blocks' weight matrices and the tied output layer. */
    static double weightMacs(GptConfig m) {
        return 12.0 * m.layers() * m.channels() * m.channels() + (double) m.vocabSize() * m.channels();
    }

    /** L, H, C, T, V of the model, then the case's own params. */
    private static Map<String, Integer> with(GptConfig m, Object... more) {
        Map<String, Integer> p = KernelCases.p("L", m.layers(), "H", m.heads(), "C", m.channels(), "T", m.context(), "V", m.vocabSize());
        p.putAll(KernelCases.p(more));
        return p;
    }

    /** The model a case names: GPT-2 style, no dropout. */
    static GptConfig config(Case c) {
        Map<String, Integer> p = c.params();
        return new GptConfig(GptConfig.Style.GPT2, p.get("V"), p.get("T"), p.get("L"), p.get("H"), p.get("C"), 0f, 0);
    }

    /**
     * llm.c's CPU trainer (a train_gpt2 binary the user built) on the main job's model, randomly initialised, and
     * random tokens: its train_step record at its hard-coded B = 4, T = 64, beside ours at the same batch.
     */
    public static Result llmc(Path binary, int threads, Peaks peaks, Consumer<String> log) {
        Gpt m = model(CHAR, 1);
        Random r = new Random(5);
        int[] train = r.ints(100_000, 0, CHAR.vocabSize()).toArray();
        int[] val = r.ints(10_000, 0, CHAR.vocabSize()).toArray();
        return Llmc.run(binary, CHAR, m.params, ids(CHAR.vocabSize()), train, val, threads, peaks, log);
    }

    /** Times the cases on backend (impl "tgpt"); the three parts of a PPO iteration come from the same runs. */
    public static List<Result> run(Backend backend, List<Case> cases, Protocol protocol, Peaks peaks, Consumer<String> log) {
        List<Result> out = new ArrayList<>();
        Set<Map<String, Integer>> ppoDone = new HashSet<>();
        for (Case c : cases) {
            List<Result> timed = switch (c.name()) {
                case "train_step" -> List.of(trainStep(backend, c, protocol, peaks));
                case "decode" -> List.of(decode(backend, c, protocol, peaks));
                case "read_weights" -> backend instanceof JvmBackend jvm ? List.of(readWeights(jvm, c, protocol, peaks)) : List.of();
                case "prefill" -> List.of(prefill(backend, c, protocol, peaks));
                default -> {
                    if (!c.name().startsWith(PPO)) {
                        throw new UserError("no model case '" + c.name() + "'");
                    }
                    yield ppoDone.add(c.params()) ? ppo(backend, c, protocol, peaks).stream()
                            .filter(r -> cases.stream().anyMatch(k -> k.sameAs(r.name(), r.params()))).toList() : List.of();
                }
            };
            for (Result r : timed) {
                log.accept(String.format(Locale.ROOT, "tgpt %s %s: %.3f ms", r.name(), r.shape(), r.medianMs()));
                out.add(r);
            }
        }
        return out;
    }

    private static Result trainStep(Backend backend, Case c, Protocol protocol, Peaks peaks) {
        GptConfig m = config(c);
        int B = c.params().get("B");
        int T = c.params().get("T");
        // AdamW as bench/python/torch_models.py's (lr 3e-4, β (0.9, 0.99), weight decay 0.1); clipping as the main job's
        Trainer.Options o = Trainer.Options.defaults().batch(B).context(T).steps(Integer.MAX_VALUE).accumulation(1).lr(3e-4f).minLr(3e-4f).warmup(0).weightDecay(0.1f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(1f).seed(1);
        int R = c.params().getOrDefault("R", 0);
        if (R > 0) {
            o = o.lora(new Lora.Settings(R, 2f * R, EnumSet.allOf(Lora.Target.class)));
        }
        Random r = new Random(2);
        int[] tokens = r.ints(B * T, 0, m.vocabSize()).toArray();
        int[] targets = r.ints(B * T, 0, m.vocabSize()).toArray();
        double[] ms;
        try (Trainer trainer = new Trainer(model(m, 1).trainedAs(o), backend, o)) {
            Runnable step = () -> trainer.trainStep((in, tg) -> {
                for (int i = 0; i < tokens.length; i++) {
                    in.set(i, tokens[i]);
                    tg.set(i, targets[i]);
                }
            });
            ms = protocol(protocol, longRun(c)).time(step);
        }
        return result(backend, c, Stats.of(ms), peaks, "one optimizer step as the trainer runs it: forward, backward, gradient norm and "
                + "clipping at 1, AdamW (lr 3e-4, betas 0.9/0.99, weight decay 0.1); dropout 0; a fixed random batch of B x T tokens; "
                + (R == 0 ? "flops = 6(12LC^2 + VC)BT + 6LCBT(T+1)"
                        : "LoRA adapters of rank R (alpha 2R) on qkv, proj, fc and fcproj of every block, all else frozen, AdamW on the "
                                + "adapters alone; flops = (4(12LC^2 + VC) + 96LCR)BT + 6LCBT(T+1)")
                + (longRun(c) ? "; " + fewNote() : ""));
    }

    private static Result decode(Backend backend, Case c, Protocol protocol, Peaks peaks) {
        GptConfig m = config(c);
        int P = c.params().get("P");
        int N = c.params().get("N");
        CharTokenizer ids = ids(m.vocabSize());
        String prompt = ids.decode(new Random(3).ints(P, 1, m.vocabSize()).toArray());
        // greedy, as torch_models.py decodes: the step is the model's forward and an argmax, not a sort of the vocabulary
        Sampler.Options o = new Sampler.Options(N, 0f, 0, 1f, List.of(), 1);
        boolean few = longRun(c);
        double[] ms;
        try (Sampler sampler = new Sampler(model(m, 1).decodingWith(format(c)), backend, 1)) {
            ms = protocol(protocol, few).time(() -> {
                String text = sampler.generate(List.of(prompt), ids, o).getFirst();
                if (text.codePointCount(0, text.length()) != N) {
                    throw new IllegalStateException("decoding stopped after " + text.codePointCount(0, text.length()) + " of " + N + " tokens");
                }
            });
        }
        int steps = P - 1 + N;
        double[] perStep = Arrays.stream(ms).map(t -> t / steps).toArray();
        return result(backend, c, Stats.of(perStep), peaks, "batch 1, greedy, with the KV cache: a P-token prompt then N tokens, a "
                + "position per step; time per step = a generation's time / (P - 1 + N); matmul weights as " + format(c)
                + " (W: bits a weight)" + (few ? "; " + fewNote() : ""));
    }

    private static Result prefill(Backend backend, Case c, Protocol protocol, Peaks peaks) {
        GptConfig m = config(c);
        CharTokenizer ids = ids(m.vocabSize());
        String prompt = ids.decode(new Random(6).ints(c.params().get("P"), 1, m.vocabSize()).toArray());
        Sampler.Options o = new Sampler.Options(1, 0f, 0, 1f, List.of(), 1);
        double[] ms;
        try (Sampler sampler = new Sampler(model(m, 1).decodingWith(format(c)), backend, 1)) {
            ms = protocol(protocol, true).time(() -> sampler.generate(List.of(prompt), ids, o));
        }
        return result(backend, c, Stats.of(ms), peaks, "the time to the first token of a P-token prompt, batch 1: the prompt but its last token "
                + "through prefill launches of " + Gpt.prefillRows(m) + " rows, then a decoding step; matmul weights as " + format(c) + " (W: bits a "
                + "weight); " + fewNote());
    }

    private static Result readWeights(JvmBackend jvm, Case c, Protocol protocol, Peaks peaks) {
        long floats = (long) (c.bytes() / 4);
        FloatArray data = new FloatArray(Math.toIntExact(floats));
        data.init(1f);
        MemorySegment m = data.getSegment();
        int chunks = 1024;
        float[] sums = new float[chunks];
        double[] ms = protocol.time(() -> jvm.parallelFor(chunks, k -> sums[k] = HostPeaks.sum(m, floats * k / chunks, floats * (k + 1) / chunks)));
        return result(jvm, c, Stats.of(ms), peaks, "the floor of a decoding step: reading the matmul weights once as stored (W bits a weight; "
                + "int8 with its scales), summed by the backend's threads, 4 vector sums in flight per thread");
    }

    /** Rollouts, scoring and updates of a PPO iteration on four random models of the case's shape and a random reward head. */
    private static List<Result> ppo(Backend backend, Case c, Protocol protocol, Peaks peaks) {
        GptConfig m = config(c);
        Map<String, Integer> p = c.params();
        int R = p.get("R");
        int B = p.get("B");
        CharTokenizer ids = ids(m.vocabSize());
        Random r = new Random(4);
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < R; i++) {
            // ids 1..V-1: id 0, the newline, ends a response
            prompts.add(ids.decode(r.ints(p.get("P"), 1, m.vocabSize()).toArray()));
        }
        Trainer.Options o = Trainer.Options.defaults().batch(B).context(m.context()).steps(Integer.MAX_VALUE).accumulation(1).lr(1e-4f).minLr(1e-4f).warmup(0).weightDecay(0.01f).beta1(0.9f).beta2(0.95f).eps(1e-8f).gradClip(1f).seed(3);
        Ppo.Settings s = new Ppo.Settings(1, R, B, p.get("E"), p.get("N"), o, o, 0.2f, 0.2f, 1f, 0.95f, new KlController.Fixed(0.05f), 0f, 1, 1,
                3, Path.of("unused")); // iteration() writes nothing
        List<long[]> phases = new ArrayList<>();
        // the policy and the reference start equal, as do the reward model and the value model (PPO's starting point)
        try (Ppo ppo = new Ppo(model(m, 1), model(m, 1), model(m, 2), new RewardHead(1, 1, m.channels(), 5), model(m, 2), ids, prompts, null,
                null, backend, s)) {
            int[] it = { 0 };
            double[] total = protocol(protocol, true).time(() -> phases.add(ppo.iteration(++it[0])));
            // the timed runs are the last ones
            List<long[]> timed = phases.subList(phases.size() - total.length, phases.size());
            String note = "one PPO iteration of R rollouts (P-token prompts, responses of up to N tokens sampled on the device), "
                    + "minibatches of B, E epochs, a random reward head, 4 models of this shape; " + fewNote();
            String[] parts = { "generating the rollouts", "scoring them (policy, reference, value and reward forward passes) and the advantages",
                    "the updates (E epochs of policy and value steps)" };
            List<Result> out = new ArrayList<>();
            for (int k = 0; k < PPO_PARTS.size(); k++) {
                int part = k;
                double[] ms = timed.stream().mapToDouble(n -> n[part] / 1e6).toArray();
                out.add(result(backend, Case.model(PPO_PARTS.get(k), p, 0, 0), Stats.of(ms), peaks, "this record: " + parts[k] + "; " + note));
            }
            return out;
        }
    }

    private static Result result(Backend backend, Case c, Stats s, Peaks peaks, String note) {
        DeviceInfo d = backend.info();
        return Result.of(c, "tgpt", d.id(), d.name(), s, peaks, note);
    }

    /**
     * A run takes seconds: GPT-2-sized decoding (a tenth of a GFLOP per token and more) and training steps (a hundred
     * GFLOP and more), and PPO iterations.
     */
    static boolean longRun(Case c) {
        return c.name().startsWith(PPO) || c.name().equals("decode") && c.flops() > 1e8 || c.name().equals("train_step") && c.flops() > 1e11;
    }

    /** The protocol, or, for long runs, no warm-up time (two runs, more while the JIT compiles) and a few timed runs. */
    private static Protocol protocol(Protocol p, boolean few) {
        return few ? new Protocol(0, Math.min(FEW_RUNS, p.minRuns()), 0, Math.min(FEW_RUNS, p.maxRuns())) : p;
    }

    private static String fewNote() {
        return "2 warm-up runs (more while the JIT compiles), then attempts of " + FEW_RUNS + " timed runs (a run takes seconds) until two agree";
    }

    /** GPT-2's initialisation, seeded. */
    private static Gpt model(GptConfig m, long seed) {
        Parameters p = new Parameters(m);
        p.initialise(seed);
        return new Gpt(m, p);
    }

    /**
     * A vocabulary of V symbols for random models: the newline (id 0, which ends a PPO response) and V − 1 code points
     * from U+10000 up, so that a text's length in code points is its length in tokens, and nothing else ends decoding.
     */
    static CharTokenizer ids(int V) {
        StringBuilder s = new StringBuilder("\n");
        for (int i = 0; i < V - 1; i++) {
            s.appendCodePoint(0x10000 + i);
        }
        return CharTokenizer.of(s.toString());
    }
}
