package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.CharTokenizer;

/** PPO's loop on a tiny random model, on the JVM backend and the TornadoVM device: what it logs and what must hold. */
class PpoTest {

    @TempDir
    Path dir;

    static java.util.stream.Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void iterationsLogEveryFigureAndStartWithNoKl(Backend backend) throws Exception {
        String text = "abcdefgh \n".repeat(40);
        CharTokenizer tokenizer = CharTokenizer.of(text);
        // the main job's depth: on a TornadoVM device the four models' programs are too big for one task graph each
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 24, 4, 2, 16, 0f, 0);
        Gpt[] models = new Gpt[4];
        for (int i = 0; i < models.length; i++) {
            Parameters p = new Parameters(config);
            p.initialise(i < 2 ? 1 : 2); // policy = reference; reward backbone = value backbone
            models[i] = new Gpt(config, p);
        }
        RewardHead head = new RewardHead(1, 1, 16, 5);
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 4, 24, Integer.MAX_VALUE, 1e-3f, 0, 1);
        Ppo.Settings s = new Ppo.Settings(2, 4, 2, 1, 6, o, o, 0.2f, 0.2f, 1f, 0.95f, new KlController.Fixed(0.1f), 0.5f, 1, 1, 9, dir);
        int[] tokens = tokenizer.encode(text);
        try (Ppo ppo = new Ppo(models[0], models[1], models[2], head, models[3], tokenizer, List.of("ab", "c", "hhg", "d e"), tokens, tokens,
                backend, s)) {
            ppo.run(null, new TrainingRun.Listener() {
            });
        }
        List<JsonNode> lines = Files.readAllLines(dir.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return new ObjectMapper().readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        assertEquals(2, lines.size());
        for (JsonNode l : lines) {
            for (String key : List.of("reward", "kl", "entropy", "clipfrac", "approx_kl", "value_loss", "explained_var", "resp_len", "ptx_loss",
                    "pretrain_loss")) {
                assertTrue(l.has(key) && Double.isFinite(l.get(key).asDouble()), key + " in " + l);
            }
            assertTrue(l.get("clipfrac").asDouble() >= 0 && l.get("clipfrac").asDouble() <= 1, l.toString());
            assertTrue(l.get("resp_len").asDouble() >= 1 && l.get("resp_len").asDouble() <= 6, l.toString());
        }
        // the first rollouts come from the policy before any update, scored by the same kernels as the reference
        assertEquals(0.0, lines.getFirst().get("kl").asDouble(), 0.0);
        assertTrue(Files.exists(dir.resolve("checkpoint/model.safetensors")));
    }

    /**
     * PPO with LoRA on the backends: the reference and the reward model are the policy's and the value model's weights
     * with their adapters off, scored in the trainers' own sessions. The first rollouts' KL is exactly 0 and the
     * weights do not move; the policy's saved checkpoint has its adapter merged in.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void withLoraTheFrozenModelsAreTheTrainedOnesAdaptersOff(Backend backend) throws Exception {
        String text = "abcdefgh \n".repeat(40);
        CharTokenizer tokenizer = CharTokenizer.of(text);
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 24, 4, 2, 16, 0f, 0);
        Parameters sft = new Parameters(config);
        sft.initialise(1);
        Parameters rm = new Parameters(config);
        rm.initialise(2);
        float[] before = sft.all().toHeapArray();
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 2, 24, Integer.MAX_VALUE, 1e-2f, 0, 1)
                .lora(new dev.tgpt.gpt.Lora.Settings(2, 4f, java.util.EnumSet.allOf(dev.tgpt.gpt.Lora.Target.class)));
        Gpt policy = new Gpt(config, sft).trainedAs(o);
        Gpt value = new Gpt(config, rm).trainedAs(o);
        Ppo.Settings s = new Ppo.Settings(1, 4, 2, 1, 6, o, o, 0.2f, 0.2f, 1f, 0.95f, new KlController.Fixed(0.1f), 0f, 1, 1, 9, dir);
        try (Ppo ppo = new Ppo(policy, policy.withoutAdapters(), value.withoutAdapters(), new RewardHead(1, 1, 16, 5), value, tokenizer,
                List.of("ab", "c", "hhg", "d e"), null, null, backend, s)) {
            ppo.run(null, new TrainingRun.Listener() {
            });
        }
        JsonNode first = new ObjectMapper().readTree(Files.readAllLines(dir.resolve("metrics.jsonl")).getFirst());
        assertEquals(0.0, first.get("kl").asDouble(), 0.0, first.toString());
        float[] after = sft.all().toHeapArray();
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i], after[i], 0f, "weight " + i);
        }
        assertTrue(Files.exists(dir.resolve("adapter/adapter_model.safetensors")) && Files.exists(dir.resolve("checkpoint/model.safetensors")));
    }

    /** PPO's plan (four models, two trainers, two scorers, the rollouts' decoder) against what it really allocates. */
    @org.junit.jupiter.api.Test
    void thePlanIsWhatPpoAllocates() {
        String text = "abcdefgh \n".repeat(40);
        CharTokenizer tokenizer = CharTokenizer.of(text);
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 64, 4, 4, 64, 0f, 0);
        RlhfConfig.Ppo c = new RlhfConfig.Ppo();
        c.batch = 4;
        c.rollouts = 8;
        c.maxResponse = 20;
        List<String> prompts = List.of("ab", "c", "hhg", "d e");
        dev.tgpt.gpt.MemoryPlan plan = Pipeline.ppoPlan(config, config, tokenizer, prompts, c, Trainer.Options.defaults());
        long before = dev.tgpt.gpt.MemoryPlan.heldAfterCollection();
        Gpt[] models = new Gpt[4];
        for (int i = 0; i < models.length; i++) {
            models[i] = new Gpt(config, new Parameters(config));
        }
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), c.batch, config.context(), Integer.MAX_VALUE, c.lr, 0, c.seed);
        Ppo.Settings s = new Ppo.Settings(1, c.rollouts, c.batch, 1, c.maxResponse, o, o, 0.2f, 0.2f, 1f, 0.95f, new KlController.Fixed(0.1f), 0f, 1, 1,
                9, dir);
        try (Ppo ppo = new Ppo(models[0], models[1], models[2], new RewardHead(1, 1, 64, 5), models[3], tokenizer, prompts, null, null,
                new dev.tgpt.engine.JvmBackend(1), s)) {
            long used = dev.tgpt.gpt.MemoryPlan.held() - before;
            double error = Math.abs(used - plan.total()) / (double) used;
            assertTrue(error < 0.05, "planned " + plan.describe() + ", allocated " + used + " bytes: " + error);
        }
    }

    /**
     * With LoRA, PPO's four models are two copies of weights (the reference is the policy with its adapters off, the
     * reward model the value model with its adapters off) and its trainers hold adapters' gradients and moments:
     * the plan is what that allocates, and at GPT-2 124M's shape the models' state (weights, gradients, moments: all
     * but the activations and the rollouts' caches, which LoRA leaves as they are) is under a quarter of full PPO's.
     */
    @org.junit.jupiter.api.Test
    void withLoraThePlanIsWhatPpoAllocatesAndHoldsAQuarterOfTheState() {
        String text = "abcdefgh \n".repeat(40);
        CharTokenizer tokenizer = CharTokenizer.of(text);
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 64, 4, 4, 64, 0f, 0);
        RlhfConfig.Ppo c = new RlhfConfig.Ppo();
        c.batch = 4;
        c.rollouts = 8;
        c.maxResponse = 20;
        List<String> prompts = List.of("ab", "c", "hhg", "d e");
        Trainer.Options lora = Trainer.Options.defaults().lora(new dev.tgpt.gpt.Lora.Settings(8, 16f, java.util.EnumSet.allOf(dev.tgpt.gpt.Lora.Target.class)));
        dev.tgpt.gpt.MemoryPlan plan = Pipeline.ppoPlan(config, config, tokenizer, prompts, c, lora);
        long before = dev.tgpt.gpt.MemoryPlan.heldAfterCollection();
        Trainer.Options o = Pipeline.options(lora, c.batch, config.context(), Integer.MAX_VALUE, c.lr, 0, c.seed);
        Gpt policy = new Gpt(config, new Parameters(config)).trainedAs(o);
        Gpt value = new Gpt(config, new Parameters(config)).trainedAs(o);
        Ppo.Settings s = new Ppo.Settings(1, c.rollouts, c.batch, 1, c.maxResponse, o, o, 0.2f, 0.2f, 1f, 0.95f, new KlController.Fixed(0.1f), 0f, 1, 1,
                9, dir);
        try (Ppo ppo = new Ppo(policy, policy.withoutAdapters(), value.withoutAdapters(), new RewardHead(1, 1, 64, 5), value, tokenizer, prompts, null,
                null, new dev.tgpt.engine.JvmBackend(1), s)) {
            long used = dev.tgpt.gpt.MemoryPlan.held() - before;
            double error = Math.abs(used - plan.total()) / (double) used;
            assertTrue(error < 0.05, "planned " + plan.describe() + ", allocated " + used + " bytes: " + error);
        }
        GptConfig gpt2 = GptConfig.preset("gpt2").withVocabSize(50257);
        RlhfConfig.Ppo big = new RlhfConfig.Ppo();
        big.maxResponse = 125; // T = 128 with the longest prompt
        dev.tgpt.gpt.MemoryPlan full = Pipeline.ppoPlan(gpt2, gpt2, tokenizer, prompts, big, Trainer.Options.defaults());
        dev.tgpt.gpt.MemoryPlan adapters = Pipeline.ppoPlan(gpt2, gpt2, tokenizer, prompts, big, lora);
        System.out.println("PPO at GPT-2 124M, B = 16, T = 128: full " + full.describe() + "; LoRA r = 8 " + adapters.describe());
        assertTrue(modelState(adapters) < modelState(full) / 4, adapters.describe() + " against " + full.describe());
    }

    private static long modelState(dev.tgpt.gpt.MemoryPlan plan) {
        return plan.parts().entrySet().stream().filter(e -> !e.getKey().contains("activations") && !e.getKey().contains("decoding"))
                .mapToLong(java.util.Map.Entry::getValue).sum();
    }
}
