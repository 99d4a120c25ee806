package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.GptConfig;

class ModelCasesTest {

    @Test
    void theCasesNameTheMainJobsModelAndTheirBatches() {
        List<Case> quick = ModelCases.cases(true);
        List<Case> full = ModelCases.cases(false);
        Map<String, Integer> charModel = Map.of("L", 4, "H", 4, "C", 128, "T", 64, "V", 65);
        for (int B : new int[] { 4, 32 }) {
            Map<String, Integer> params = new java.util.HashMap<>(charModel);
            params.put("B", B);
            assertTrue(quick.stream().anyMatch(c -> c.sameAs("train_step", params)), "train_step at B = " + B);
        }
        Map<String, Integer> lora = new java.util.HashMap<>(charModel);
        lora.putAll(Map.of("B", 32, "R", 8));
        assertTrue(quick.stream().anyMatch(c -> c.sameAs("train_step", lora)), "LoRA's train_step at the main job's batch");
        assertEquals(List.of("train_step", "train_step", "train_step", "decode", "ppo_iteration.generate", "ppo_iteration.score",
                "ppo_iteration.update"), quick.stream().map(Case::name).toList());
        for (int R : new int[] { 0, 8 }) {
            assertTrue(full.stream().anyMatch(c -> c.name().equals("train_step") && c.params().get("C") == 768 && c.params().get("B") == 4
                    && c.params().getOrDefault("R", 0) == R), "GPT-2's training step, R " + R);
        }
        for (int W : new int[] { 32, 16, 8 }) {
            assertTrue(full.stream().anyMatch(c -> c.name().equals("decode") && c.params().get("V") == 50257 && c.params().get("W") == W), "W " + W);
            assertTrue(full.stream().anyMatch(c -> c.name().equals("read_weights") && c.params().get("W") == W), "floor at W " + W);
            assertTrue(full.stream().anyMatch(c -> c.name().equals("prefill") && c.params().get("P") == 512 && c.params().get("C") == 768
                    && c.params().get("W") == W), "prefill at W " + W);
        }
        assertTrue(full.stream().anyMatch(c -> c.name().equals("decode") && c.params().get("V") == 50257 && c.params().get("C") == 768
                && c.params().get("L") == 12 && c.params().get("T") == 1024), "GPT-2-sized decoding in the full run");
        assertTrue(full.stream().anyMatch(c -> c.name().equals("decode") && c.params().get("V") == 50257 && c.params().get("N") == 1023
                && c.params().get("W") == 32), "GPT-2's decoding over its whole context");
        assertFalse(quick.stream().anyMatch(c -> c.params().get("V") == 50257), "not in quick");
        for (Case c : full) {
            assertEquals("model", c.kind());
            assertEquals(c.params().get("V"), ModelCases.config(c).vocabSize());
        }
    }

    @Test
    void flopsFollowTheStatedFormula() {
        GptConfig m = ModelCases.CHAR;
        // 6·(12·L·C² + V·C)·B·T + 6·L·C·B·T·(T+1) at L 4, C 128, V 65, B 4, T 64
        double expected = 6.0 * (12 * 4 * 128 * 128 + 65 * 128) * 4 * 64 + 6.0 * 4 * 128 * 4 * 64 * 65;
        assertEquals(expected, ModelCases.trainStep(m, 4, 64, 0).flops(), 1e-6 * expected);
        // LoRA of rank 8: no weight gradients (4 products of the weights, not 6), the adapters' 16·C·R a layer 6 times
        double lora = (4.0 * (12 * 4 * 128 * 128 + 65 * 128) + 6.0 * 16 * 4 * 128 * 8) * 4 * 64 + 6.0 * 4 * 128 * 4 * 64 * 65;
        assertEquals(lora, ModelCases.trainStep(m, 4, 64, 8).flops(), 1e-6 * lora);
        // a decoding step at the mean position of P − 1 + N steps: keys 1..55, mean 28
        Case d = ModelCases.decode(m, 8, 48, QuantMatmulOps.Format.FP32);
        assertEquals(2 * (12 * 4 * 128 * 128 + 65 * 128 + 2.0 * 4 * 128 * 28), d.flops(), 1e-6);
        assertEquals(2 * d.flops(), d.bytes(), 1e-6, "4 bytes per multiply-add's weight or cached value");
        // int8: a byte a weight and a 4-byte scale per 32; the cache stays fp32
        double weights = 12 * 4 * 128 * 128 + 65 * 128;
        assertEquals(weights * (1 + 4.0 / 32) + 4 * 2.0 * 4 * 128 * 28, ModelCases.decode(m, 8, 48, QuantMatmulOps.Format.INT8).bytes(), 1e-6);
        assertEquals(2 * weights, ModelCases.readWeights(m, QuantMatmulOps.Format.BF16).bytes(), 1e-6);
    }

    @Test
    void timesEveryCaseOnTheJvmBackendAtTinySizes() {
        GptConfig tiny = new GptConfig(GptConfig.Style.GPT2, 20, 16, 2, 2, 32, 0f, 0);
        List<Case> cases = new ArrayList<>(List.of(ModelCases.trainStep(tiny, 2, 16, 0), ModelCases.trainStep(tiny, 2, 16, 4)));
        for (QuantMatmulOps.Format f : QuantMatmulOps.Format.values()) {
            cases.add(ModelCases.decode(tiny, 3, 5, f));
            cases.add(ModelCases.readWeights(tiny, f));
            cases.add(ModelCases.prefill(tiny, 12, f));
        }
        cases.addAll(ModelCases.ppo(tiny, 4, 2, 1, 3, 6));
        List<String> log = new ArrayList<>();
        List<Result> results = ModelCases.run(new JvmBackend(), cases, new Protocol(0, 2, 0, 3), Peaks.UNKNOWN, log::add);
        assertEquals(cases.size(), results.size());
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Result r = results.get(i);
            assertTrue(c.sameAs(r.name(), r.params()), r.name() + " " + r.shape());
            assertEquals("tgpt", r.impl());
            assertEquals("jvm", r.device());
            assertTrue(r.runs() >= 2, r.toString());
            for (double ms : new double[] { r.medianMs(), r.p25Ms(), r.p75Ms(), r.minMs(), r.maxMs() }) {
                assertTrue(Double.isFinite(ms) && ms >= 0, r.toString());
            }
            assertTrue(r.minMs() <= r.medianMs() && r.medianMs() <= r.maxMs(), r.toString());
            assertFalse(r.note().isEmpty(), r.name());
            assertEquals(c.flops() > 0, Double.isFinite(r.gflops()), r.name());
        }
        assertEquals(cases.size(), log.size(), "a line per record");
    }
}
