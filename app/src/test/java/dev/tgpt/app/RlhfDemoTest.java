package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * `./tgpt rlhf --demo tiny --algo ppo,dpo`, end to end on the JVM backend: the reward model beats chance, PPO raises
 * the reward, and the labeler, who trained nothing, prefers DPO's policy to SFT's on held-out prompts. With LoRA,
 * GRPO's adapters move the policy as full fine-tuning does.
 */
class RlhfDemoTest {

    @TempDir
    Path dir;

    @Test
    void tinyDemoLearnsTheLabelersPreference() throws Exception {
        Path out = dir.resolve("rlhf");
        TgptTest.Run r = TgptTest.run("rlhf", "--demo", "tiny", "--algo", "ppo,dpo", "--device", "jvm", "--corpus", "../data/tinyshakespeare.txt", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        JsonNode report = json.readTree(out.resolve("report.json").toFile());
        // held-out pairs of the tiny reward model; chance is 0.5
        assertTrue(report.get("rm_val_acc").asDouble() > 0.5, report.toString());
        for (String run : List.of("sft", "rm", "ppo", "ppo-ptx", "dpo")) {
            assertTrue(Files.exists(out.resolve(run).resolve("checkpoint/model.safetensors")), run);
        }
        List<Double> reward = Files.readAllLines(out.resolve("ppo/metrics.jsonl")).stream().map(l -> {
            try {
                return json.readTree(l).get("reward").asDouble();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        int k = 3;
        double first = reward.subList(0, k).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = reward.subList(reward.size() - k, reward.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last > first, "reward of the first iterations " + first + ", of the last " + last);
        assertTrue(report.get("dpo_win_rate_vs_sft").asDouble() > 0.5 && report.get("dpo_kl").asDouble() > 0, report.toString());
    }

    /**
     * GRPO training rank-8 adapters at the demo's LoRA rates (10× the full ones): the labeler prefers its policy to
     * SFT's and it has moved from SFT (at the full rates it did not: win rate 0.48, KL 0.01 nats; at 10×: 0.67, 2.1).
     */
    @Test
    void tinyDemoWithLoraMovesThePolicy() throws Exception {
        Path out = dir.resolve("rlhf-lora");
        TgptTest.Run r = TgptTest.run("rlhf", "--demo", "tiny", "--algo", "grpo", "--lora", "8", "--device", "jvm", "--corpus", "../data/tinyshakespeare.txt",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertTrue(report.get("grpo_win_rate_vs_sft").asDouble() > 0.55 && report.get("grpo_kl").asDouble() > 0.5, report.toString());
        assertTrue(Files.exists(out.resolve("grpo/adapter/adapter_model.safetensors")), "grpo's adapter");
    }
}
