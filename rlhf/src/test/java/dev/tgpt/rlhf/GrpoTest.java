package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
import dev.tgpt.gpt.io.Checkpoint;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** GRPO's loop on a tiny random model, on the JVM backend and the TornadoVM device. */
class GrpoTest {

    @TempDir
    Path dir;

    static java.util.stream.Stream<Backend> backends() {
        return TestBackends.all();
    }

    static final String TEXT = "abcdefgh \n".repeat(40);

    /** The main job's depth: on a TornadoVM device a 4-layer step is cut into several task graphs. */
    static GptConfig config(CharTokenizer tokenizer) {
        return new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 16, 4, 2, 16, 0f, 0);
    }

    static Gpt model(GptConfig config) {
        Parameters p = new Parameters(config);
        p.initialise(1);
        return new Gpt(config, p);
    }

    static FloatArray copy(FloatArray a) {
        FloatArray c = new FloatArray(a.getSize());
        c.getSegment().copyFrom(a.getSegment());
        return c;
    }

    static List<JsonNode> metrics(Path dir) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            lines.add(new ObjectMapper().readTree(l));
        }
        return lines;
    }

    /**
     * A reward function that counts the response's a's: every figure is logged, the first iteration's KL is exactly 0
     * (the rollouts come from the reference's weights, scored by the same kernels), and after 8 iterations the
     * policy's responses hold more a's than at the start (lr 1e-2 on a 4-layer, 16-wide model). tornado-jvm's
     * emulated device takes ~13 s an iteration here, so in CI it runs 2 and checks what they log; on a real device
     * and the JVM backend, all 8.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void learnsWhatTheRewardFunctionRewards(Backend backend) throws Exception {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        GptConfig config = config(tokenizer);
        RewardFunction as = (prompt, response, ended) -> response.chars().filter(ch -> ch == 'a').count();
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 4, 16, Integer.MAX_VALUE, 1e-2f, 0, 1);
        int iterations = TestBackends.emulated() && !(backend instanceof dev.tgpt.engine.JvmBackend) ? 2 : 8;
        Grpo.Settings s = new Grpo.Settings(iterations, 2, 4, 4, 1, 8, o, 0.2f, 0.04f, false, 100, 9, dir);
        try (Grpo grpo = new Grpo(model(config), model(config), Grpo.function(as, tokenizer), tokenizer, List.of("ab", "c", "hhg", "d e"), backend, s)) {
            grpo.run(null, new TrainingRun.Listener() {
            });
        }
        List<JsonNode> lines = metrics(dir);
        assertEquals(iterations, lines.size());
        for (JsonNode l : lines) {
            for (String key : List.of("reward", "reward_std", "kl", "entropy", "clipfrac", "resp_len")) {
                assertTrue(l.has(key) && Double.isFinite(l.get(key).asDouble()), key + " in " + l);
            }
            assertEquals(0.0, l.get("clipfrac").asDouble(), 0.0, "one optimizer step per iteration: the ratio is 1");
        }
        assertEquals(0.0, lines.getFirst().get("kl").asDouble(), 0.0);
        if (iterations < 8) {
            return;
        }
        double first = (lines.get(0).get("reward").asDouble() + lines.get(1).get("reward").asDouble()) / 2;
        double last = (lines.get(6).get("reward").asDouble() + lines.get(7).get("reward").asDouble()) / 2;
        assertTrue(last > first, "mean a's per response: first iterations " + first + ", last " + last);
        assertTrue(Files.exists(dir.resolve("checkpoint/model.safetensors")));
    }

    /**
     * A reward every response shares gives every advantage 0, and at the first iteration the policy is its reference,
     * where the KL penalty's gradient is exactly 0 too: with no weight decay the weights must not move at all, on any
     * backend (nothing else may leak into the gradient). Two epochs, so the second step sees the same.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void aRewardEveryResponseSharesMovesNothing(Backend backend) throws Exception {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        GptConfig config = config(tokenizer);
        Gpt policy = model(config);
        FloatArray before = copy(policy.params.all());
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 4, 16, Integer.MAX_VALUE, 1e-2f, 0, 1).weightDecay(0f);
        Grpo.Settings s = new Grpo.Settings(1, 2, 2, 4, 2, 6, o, 0.2f, 0.04f, false, 100, 9, dir);
        try (Grpo grpo = new Grpo(policy, model(config), Grpo.function((p, r, e) -> 1.0, tokenizer), tokenizer, List.of("ab", "c"), backend, s)) {
            grpo.run(null, new TrainingRun.Listener() {
            });
        }
        Parameters after = Checkpoint.load(dir.resolve("checkpoint")).parameters();
        for (int i = 0; i < before.getSize(); i++) {
            assertEquals(before.get(i), after.all().get(i), 0f, "parameter " + i);
        }
    }

    /** GRPO's plan (policy, reference, reward model; one trainer, two forward passes, the rollouts' decoder) against what it allocates. */
    @org.junit.jupiter.api.Test
    void thePlanIsWhatGrpoAllocates() {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 64, 4, 4, 64, 0f, 0);
        RlhfConfig.Grpo c = new RlhfConfig.Grpo();
        c.batch = 4;
        c.promptsPerIteration = 4;
        c.group = 2;
        c.maxResponse = 20;
        List<String> prompts = List.of("ab", "c", "hhg", "d e");
        dev.tgpt.gpt.MemoryPlan plan = Pipeline.grpoPlan(config, config, tokenizer, prompts, c, Trainer.Options.defaults());
        long before = dev.tgpt.gpt.MemoryPlan.heldAfterCollection();
        Backend jvm = new dev.tgpt.engine.JvmBackend(1);
        Gpt[] models = { new Gpt(config, new Parameters(config)), new Gpt(config, new Parameters(config)), new Gpt(config, new Parameters(config)) };
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), c.batch, config.context(), Integer.MAX_VALUE, c.lr, 0, c.seed);
        int T = Ppo.length(Ppo.encode(prompts, tokenizer), c.maxResponse, config.context());
        Grpo.Settings s = new Grpo.Settings(1, c.promptsPerIteration, c.group, c.batch, 1, c.maxResponse, o, 0.2f, 0.04f, false, 1, 9, dir);
        try (Grpo grpo = new Grpo(models[0], models[1], Grpo.model(models[2], new RewardHead(1, 1, 64, 5), jvm, c.batch, T), tokenizer, prompts, jvm,
                s)) {
            long used = dev.tgpt.gpt.MemoryPlan.held() - before;
            double error = Math.abs(used - plan.total()) / (double) used;
            assertTrue(error < 0.05, "planned " + plan.describe() + ", allocated " + used + " bytes: " + error);
        }
    }

    /**
     * GRPO with LoRA: the reference is the policy's own frozen weights with the adapters off (one copy of them); the
     * weights stay bit for bit, the adapters move, and the run saves the adapter and the merged policy. The first
     * iteration's KL is exactly 0 (a fresh adapter's B is 0).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void withLoraTheReferenceIsThePolicyWithItsAdaptersOff(Backend backend) throws Exception {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        GptConfig config = config(tokenizer);
        Gpt base = model(config);
        FloatArray before = copy(base.params.all());
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 4, 16, Integer.MAX_VALUE, 1e-2f, 0, 1)
                .lora(new dev.tgpt.gpt.Lora.Settings(2, 4f, java.util.EnumSet.allOf(dev.tgpt.gpt.Lora.Target.class)));
        Gpt policy = base.trainedAs(o);
        RewardFunction as = (prompt, response, ended) -> response.chars().filter(ch -> ch == 'a').count();
        Grpo.Settings s = new Grpo.Settings(2, 2, 2, 4, 1, 6, o, 0.2f, 0.04f, false, 100, 9, dir);
        try (Grpo grpo = new Grpo(policy, policy.withoutAdapters(), Grpo.function(as, tokenizer), tokenizer, List.of("ab", "c"), backend, s)) {
            grpo.run(null, new TrainingRun.Listener() {
            });
        }
        assertEquals(0.0, metrics(dir).getFirst().get("kl").asDouble(), 0.0);
        for (int i = 0; i < before.getSize(); i++) {
            assertEquals(before.get(i), base.params.all().get(i), 0f, "weight " + i);
        }
        assertTrue(Files.exists(dir.resolve("adapter/adapter_model.safetensors")));
        Parameters merged = Checkpoint.load(dir.resolve("checkpoint")).parameters();
        boolean moved = false;
        for (int i = 0; i < before.getSize() && !moved; i++) {
            moved = merged.all().get(i) != before.get(i);
        }
        assertTrue(moved, "the saved policy is the base: the adapters did not train");
    }
}
