package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.io.Safetensors;

/** The commands end to end on a tiny model, and what each says to a user's mistakes: one line, exit code 2. */
class CommandsTest {

    @TempDir
    static Path dir;
    static Path text;
    static Path run;

    @BeforeAll
    static void trainATinyModel() throws Exception {
        Random r = new Random(1);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            s.append("abcdefgh \n".charAt(r.nextInt(10)));
        }
        text = dir.resolve("text.txt");
        Files.writeString(text, s);
        run = dir.resolve("run");
        TgptTest.Run t = TgptTest.run("train", "--device", "jvm", "--data", text.toString(), "--model", "tiny", "--steps", "4", "--batch", "2",
                "--eval-every", "2", "--eval-batches", "1", "--sample-tokens", "5", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
    }

    static void userError(String expected, String... args) {
        TgptTest.Run r = TgptTest.run(args);
        assertEquals(2, r.code(), r.out() + r.err());
        // one line says what is wrong, last (a run may have printed its progress before it), and no stack trace
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("tgpt: ")).count(), r.err());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("tgpt: ") && last.contains(expected), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    @Test
    void trainWritesMetricsCheckpointAndSamples() throws Exception {
        String metrics = Files.readString(run.resolve("metrics.jsonl"));
        assertEquals(4, metrics.lines().count());
        assertTrue(metrics.lines().allMatch(l -> l.contains("\"step\"") && l.contains("\"loss\"") && l.contains("\"lr\"")
                && l.contains("\"tokens_per_s\"")));
        assertTrue(metrics.contains("\"val_loss\""));
        assertTrue(Files.exists(run.resolve("checkpoint/model.safetensors")));
        assertTrue(Files.readString(run.resolve("samples.txt")).startsWith("--- step 4"));
    }

    @Test
    void resumeContinuesAndPlotDraws() {
        TgptTest.Run r = TgptTest.run("train", "--device", "jvm", "--data", text.toString(), "--resume", "--steps", "6", "--batch", "2",
                "--eval-every", "2", "--eval-batches", "1", "--sample-tokens", "5", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("6 steps"), r.out());
        TgptTest.Run plot = TgptTest.run("plot", run.toString());
        assertEquals(0, plot.code(), plot.err());
        assertTrue(Files.exists(run.resolve("curves.png")));
    }

    /**
     * SFT with --lora writes the base with its adapter merged in (OUT/checkpoint) and the adapter in PEFT's format
     * (OUT/adapter); sampling the base with --adapter, the merged checkpoint, and what ./tgpt merge writes give the same
     * greedy text, and the merged weights are not the base's. LoRA with ZeRO-1 is refused in one line.
     */
    @Test
    void loraSftWritesAnAdapterThatSampleAndMergeRead() throws Exception {
        Path demos = dir.resolve("lora-demos.jsonl");
        Files.writeString(demos, "{\"prompt\": \"ab\", \"completion\": \"cd\"}\n".repeat(8));
        String base = run.resolve("checkpoint").toString();
        Path out = dir.resolve("lora-sft");
        TgptTest.Run sft = TgptTest.run("sft", "--device", "jvm", "--init", base, "--data", demos.toString(), "--steps", "3", "--batch", "2", "--lr",
                "1e-2", "--lora", "2", "--out", out.toString());
        assertEquals(0, sft.code(), sft.err());
        assertTrue(Files.exists(out.resolve("checkpoint/model.safetensors")) && Files.exists(out.resolve("adapter/adapter_config.json")));
        String[] greedy = { "--prompt", "ab", "--tokens", "10", "--temperature", "0", "--device", "jvm" };
        TgptTest.Run adapted = TgptTest.run(concat(new String[] { "sample", "--model", base, "--adapter", out.resolve("adapter").toString() }, greedy));
        TgptTest.Run merged = TgptTest.run(concat(new String[] { "sample", "--model", out.resolve("checkpoint").toString() }, greedy));
        assertEquals(0, adapted.code(), adapted.err());
        assertEquals(merged.out(), adapted.out());
        Path mergedDir = dir.resolve("lora-merged");
        TgptTest.Run merge = TgptTest.run("merge", "--model", base, "--adapter", out.resolve("adapter").toString(), "--out", mergedDir.toString());
        assertEquals(0, merge.code(), merge.err());
        assertEquals(merged.out(), TgptTest.run(concat(new String[] { "sample", "--model", mergedDir.toString() }, greedy)).out());
        try (Safetensors a = Safetensors.open(run.resolve("checkpoint/model.safetensors"));
                Safetensors b = Safetensors.open(mergedDir.resolve("model.safetensors"))) {
            String w = "transformer.h.0.attn.c_attn.weight";
            boolean differ = false;
            for (int i = 0; i < a.floats(w).getSize() && !differ; i++) {
                differ = a.floats(w).get(i) != b.floats(w).get(i);
            }
            assertTrue(differ, "the merged weights are the base's");
        }
        // fine-tuning a classifier with LoRA: the head trains whole, the model through its adapters
        Path labels = dir.resolve("lora-labels.jsonl");
        Files.writeString(labels, "{\"text\": \"ab\", \"label\": \"0\"}\n{\"text\": \"cd\", \"label\": \"1\"}\n".repeat(4));
        Path tuned = dir.resolve("lora-finetune");
        TgptTest.Run finetune = TgptTest.run("finetune", "--device", "jvm", "--init", base, "--train", labels.toString(), "--val", labels.toString(),
                "--steps", "2", "--lora", "2", "--out", tuned.toString());
        assertEquals(0, finetune.code(), finetune.err());
        assertTrue(Files.exists(tuned.resolve("adapter/adapter_model.safetensors")) && Files.exists(tuned.resolve("checkpoint/model.safetensors")));
        userError("with LoRA the optimizer holds only the adapters'", "sft", "--device", "jvm", "--init", base, "--data", demos.toString(), "--steps",
                "1", "--lora", "2", "--zero", "1", "--out", dir.resolve("lora-zero").toString());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void sampleAndFewShotPrompts() throws Exception {
        String ckpt = run.resolve("checkpoint").toString();
        TgptTest.Run r = TgptTest.run("sample", "--device", "jvm", "--model", ckpt, "--prompt", "abc", "--tokens", "12", "--samples", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("--- sample 2"), r.out());
        Path examples = dir.resolve("examples.jsonl");
        Files.writeString(examples, "{\"input\": \"ab\", \"output\": \"ba\"}\n{\"input\": \"cd\", \"output\": \"dc\"}\n");
        // the tiny model knows only "abcdefgh \n": a task and separator in those characters
        TgptTest.Run fs = TgptTest.run("sample", "--device", "jvm", "--model", ckpt, "--task", "bad", "--examples", examples.toString(),
                "--shots", "1", "--query", "ef", "--separator", " ", "--tokens", "3");
        assertEquals(0, fs.code(), fs.err());
        assertTrue(fs.out().startsWith("bad\n\nab ba\nef"), fs.out());
    }

    /** --weights packs the matmul weights for decoding, counted in the plan; a model whose rows are not whole blocks is refused. */
    @Test
    void sampleWithPackedWeights() {
        Path wide = dir.resolve("wide");
        TgptTest.Run t = TgptTest.run("train", "--device", "jvm", "--data", text.toString(), "--model", "tiny", "--channels", "32", "--heads", "2",
                "--steps", "2", "--batch", "2", "--eval-batches", "1", "--sample-tokens", "3", "--out", wide.toString());
        assertEquals(0, t.code(), t.err());
        String ckpt = wide.resolve("checkpoint").toString();
        for (String w : List.of("bf16", "int8")) {
            TgptTest.Run r = TgptTest.run("sample", "--device", "jvm", "--model", ckpt, "--prompt", "abc", "--tokens", "8", "--weights", w);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains(w + " weights for decoding"), r.err());
            assertTrue(r.out().startsWith("abc") && r.out().strip().length() > 3, r.out());
        }
        // eval: the loss as the model generates, close for each format (a model of 2 steps: its weights barely moved from init)
        double[] loss = new double[3];
        List<String> formats = List.of("fp32", "bf16", "int8");
        for (int i = 0; i < 3; i++) {
            TgptTest.Run e = TgptTest.run("eval", "--device", "jvm", "--model", ckpt, "--data", text.toString(), "--windows", "4", "--weights",
                    formats.get(i));
            assertEquals(0, e.code(), e.err());
            assertTrue(e.out().startsWith("val loss ") && e.out().contains("(" + formats.get(i) + " weights; 4 windows of 16 positions)"), e.out());
            loss[i] = Double.parseDouble(e.out().split(" ")[2]);
        }
        assertTrue(loss[0] > 1 && Math.abs(loss[1] - loss[0]) < 0.01 && Math.abs(loss[2] - loss[0]) < 0.01, java.util.Arrays.toString(loss));
        userError("multiple of 32 values; this model has rows of 24: use fp32", "sample", "--device", "jvm", "--model",
                run.resolve("checkpoint").toString(), "--weights", "bf16");
        userError("unknown weight format 'fp8'", "sample", "--device", "jvm", "--model", ckpt, "--weights", "fp8");
    }

    @Test
    void tokenizeThenTrainOnTokenFiles() {
        Path tokens = dir.resolve("tokens");
        TgptTest.Run t = TgptTest.run("tokenize", text.toString(), "--tokenizer", "char", "--out", tokens.toString());
        assertEquals(0, t.code(), t.err());
        TgptTest.Run r = TgptTest.run("train", "--device", "jvm", "--data", tokens.resolve("train.bin").toString(), "--val",
                tokens.resolve("val.bin").toString(), "--model", "tiny", "--steps", "2", "--batch", "2", "--eval-batches", "1", "--sample-tokens",
                "3", "--out", dir.resolve("frombin").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void gradsWritesWhatTheParityFixtureHolds() throws Exception {
        Path fixture = Path.of("../gpt/src/test/resources/gpt2-parity");
        Path out = dir.resolve("grads.safetensors");
        TgptTest.Run r = TgptTest.run("grads", "--device", "jvm", "--model", fixture.resolve("model").toString(), "--batch",
                fixture.resolve("batch.safetensors").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (Safetensors got = Safetensors.open(out); Safetensors want = Safetensors.open(fixture.resolve("expected.safetensors"))) {
            assertEquals(want.tensors().keySet(), got.tensors().keySet());
            assertEquals(want.floats("loss").get(0), got.floats("loss").get(0), 1e-5);
        }
    }

    @Test
    void finetuneLearnsFromJsonl() throws Exception {
        Path train = dir.resolve("train.jsonl");
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            s.append("{\"text\": \"").append(i % 2 == 0 ? "abab" : "cdcd").append("\", \"label\": \"").append(i % 2).append("\"}\n");
        }
        Files.writeString(train, s);
        TgptTest.Run r = TgptTest.run("finetune", "--device", "jvm", "--init", run.resolve("checkpoint").toString(), "--train", train.toString(),
                "--val", train.toString(), "--steps", "3", "--batch", "4", "--lr", "1e-3", "--out", dir.resolve("ft").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("val accuracy"), r.out());
        Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"ab\", \"label\": 0}\n{\"txt\": \"ab\"}\n");
        userError("bad.jsonl:2: expected", "finetune", "--device", "jvm", "--init", run.resolve("checkpoint").toString(), "--train",
                dir.resolve("bad.jsonl").toString(), "--val", train.toString(), "--out", dir.resolve("ft2").toString());
    }

    @Test
    void userMistakesAreOneLine() throws Exception {
        userError("no such file", "train", "--device", "jvm", "--data", dir.resolve("missing.txt").toString(), "--out", dir.resolve("x").toString());
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        userError("empty", "train", "--device", "jvm", "--data", empty.toString(), "--out", dir.resolve("x").toString());
        userError("already holds a run", "train", "--device", "jvm", "--data", text.toString(), "--out", run.toString());
        userError("no checkpoint to continue from", "train", "--device", "jvm", "--data", text.toString(), "--resume", "--out",
                dir.resolve("none").toString());
        String ckpt = run.resolve("checkpoint").toString();
        userError("has 40 tokens; the model's context is 16", "sample", "--device", "jvm", "--model", ckpt, "--prompt", "ab".repeat(20));
        userError("character 'z' (U+007A) at position 2", "sample", "--device", "jvm", "--model", ckpt, "--prompt", "abz");
        Path foreign = dir.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("config.json"), "{\"model_type\": \"llama\"}");
        userError("model_type", "sample", "--device", "jvm", "--model", foreign.toString());
        Path truncated = dir.resolve("truncated");
        Files.createDirectories(truncated);
        Files.copy(run.resolve("checkpoint/config.json"), truncated.resolve("config.json"));
        byte[] model = Files.readAllBytes(run.resolve("checkpoint/model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(model, model.length / 2));
        userError("truncated", "sample", "--device", "jvm", "--model", truncated.toString());
        userError("training stopped: the loss is", "train", "--device", "jvm", "--data", text.toString(), "--model", "tiny", "--steps", "30",
                "--batch", "2", "--lr", "1e30", "--warmup", "0", "--clip", "0", "--out", dir.resolve("nan").toString());
    }

    /**
     * Every command that allocates plans its memory before it does: --dry-run prints the plan and exits 0 having
     * written nothing (MemoryPlanTest compares plans with what is really allocated).
     */
    @Test
    void dryRunPrintsEachCommandsPlanAndWritesNothing() throws Exception {
        Path plans = dir.resolve("plans");
        Files.createDirectories(plans);
        String ckpt = run.resolve("checkpoint").toString();
        Files.writeString(plans.resolve("demos.jsonl"), "{\"prompt\": \"ab\", \"completion\": \"cd\"}\n".repeat(4));
        Files.writeString(plans.resolve("ranks.jsonl"), "{\"prompt\": \"ab\", \"ranking\": [\"cd\", \"ef\", \"gh\"]}\n".repeat(4));
        Files.writeString(plans.resolve("prompts.jsonl"), "{\"prompt\": \"abc\"}\n".repeat(4));
        Files.writeString(plans.resolve("labels.jsonl"), "{\"text\": \"ab\", \"label\": \"0\"}\n{\"text\": \"cd\", \"label\": \"1\"}\n");
        Files.writeString(plans.resolve("rlhf.json"), String.format("{\"model\": \"%s\", \"sft\": {\"data\": \"%s\"}, \"rm\": {\"data\": \"%s\"}, "
                + "\"ppo\": {\"prompts\": \"%s\", \"max_response\": 8}, \"grpo\": {\"max_response\": 8}}", ckpt, plans.resolve("demos.jsonl"), plans.resolve("ranks.jsonl"),
                plans.resolve("prompts.jsonl")));
        Path fixture = Path.of("../gpt/src/test/resources/gpt2-parity");
        Path out = plans.resolve("out");
        Map<String, String[]> commands = new LinkedHashMap<>();
        commands.put("train", new String[] { "--data", text.toString(), "--model", "tiny", "--recompute", "--out", out.toString() });
        commands.put("finetune", new String[] { "--init", ckpt, "--train", plans.resolve("labels.jsonl").toString(), "--val",
                plans.resolve("labels.jsonl").toString(), "--out", out.toString() });
        commands.put("sample", new String[] { "--model", ckpt, "--samples", "3" });
        commands.put("grads", new String[] { "--model", fixture.resolve("model").toString(), "--batch", fixture.resolve("batch.safetensors").toString(),
                "--out", out.toString() });
        commands.put("sft", new String[] { "--init", ckpt, "--data", plans.resolve("demos.jsonl").toString(), "--out", out.toString() });
        commands.put("rm", new String[] { "--init", ckpt, "--data", plans.resolve("ranks.jsonl").toString(), "--out", out.toString() });
        commands.put("ppo", new String[] { "--sft", ckpt, "--rm", run.toString(), "--prompts", plans.resolve("prompts.jsonl").toString(), "--max-response", "8",
                "--out", out.toString() });
        commands.put("grpo", new String[] { "--sft", ckpt, "--reward", "labeler", "--prompts", plans.resolve("prompts.jsonl").toString(), "--max-response",
                "8", "--out", out.toString() });
        commands.put("dpo", new String[] { "--init", ckpt, "--data", plans.resolve("ranks.jsonl").toString(), "--out", out.toString() });
        commands.put("rlhf", new String[] { "--config", plans.resolve("rlhf.json").toString(), "--out", out.toString() });
        commands.put("serve", new String[] { "--model", ckpt, "--max-batch", "4" });
        commands.put("eval", new String[] { "--model", ckpt, "--data", text.toString() });
        Map<String, String> expected = Map.of("train", "activations (recomputed in part)", "sample", "decoding state", "serve", "decoding state", "eval", "decoding state", "grads", "gradients", "rm",
                "AdamW's moments", "dpo", "AdamW's moments", "ppo", "weights (policy, reference)", "grpo", "rollouts' decoding state");
        for (Map.Entry<String, String[]> c : commands.entrySet()) {
            String[] args = new String[c.getValue().length + 4];
            args[0] = c.getKey();
            System.arraycopy(c.getValue(), 0, args, 1, c.getValue().length);
            System.arraycopy(new String[] { "--device", "jvm", "--dry-run" }, 0, args, c.getValue().length + 1, 3);
            TgptTest.Run r = TgptTest.run(args);
            assertEquals(0, r.code(), c.getKey() + ": " + r.err());
            String plan = r.out().lines().filter(l -> l.contains("memory plan on jvm: weights ")).findFirst().orElse("");
            assertTrue(plan.contains(" = ") && plan.contains("; it may use "), c.getKey() + ": " + r.out());
            assertTrue(plan.contains(expected.getOrDefault(c.getKey(), "weights")), c.getKey() + ": " + plan);
            assertFalse(Files.exists(out), c.getKey() + " wrote " + out);
        }
        TgptTest.Run rlhf = TgptTest.run("rlhf", "--config", plans.resolve("rlhf.json").toString(), "--out", out.toString(), "--device", "jvm", "--dry-run");
        assertEquals(3, rlhf.out().lines().filter(l -> l.matches("(sft|rm|ppo): memory plan on jvm: .*")).count(), rlhf.out());
        TgptTest.Run all = TgptTest.run("rlhf", "--config", plans.resolve("rlhf.json").toString(), "--algo", "ppo,dpo,grpo", "--out", out.toString(),
                "--device", "jvm", "--dry-run");
        assertEquals(5, all.out().lines().filter(l -> l.matches("(sft|rm|ppo|dpo|grpo): memory plan on jvm: .*")).count(), all.out());
        TgptTest.Run unknown = TgptTest.run("rlhf", "--config", plans.resolve("rlhf.json").toString(), "--algo", "ppo,kto", "--out", out.toString(),
                "--dry-run");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("no method 'kto'"), unknown.err());
        TgptTest.Run demo = TgptTest.run("rlhf", "--demo", "tiny", "--corpus", "../data/tinyshakespeare.txt", "--out", out.toString(), "--device", "jvm",
                "--dry-run");
        assertEquals(4, demo.out().lines().filter(l -> l.matches("(pretrain|sft|rm|ppo): memory plan on jvm: .*")).count(), demo.out() + demo.err());
        assertFalse(Files.exists(out));
    }

    /** A checkpoint's chat template that cannot be read stops serve before the plan, as the user's mistake. */
    @Test
    void aBadChatTemplateIsOneLine() throws Exception {
        Path ckpt = dir.resolve("templated");
        Files.createDirectories(ckpt);
        try (var files = Files.list(run.resolve("checkpoint"))) {
            for (Path f : files.toList()) {
                Files.copy(f, ckpt.resolve(f.getFileName()));
            }
        }
        Files.writeString(ckpt.resolve("chat_template.json"), "{\"user\": 1}");
        userError("chat_template.json: \"user\" is not one of the strings", "serve", "--device", "jvm", "--model", ckpt.toString(), "--dry-run");
    }

    /** A plan over what the JVM may hold is one line naming the need and what would fit, before the checkpoint is read. */
    @Test
    void aPlanThatDoesNotFitIsOneLineBeforeAnythingIsRead() {
        String ckpt = run.resolve("checkpoint").toString();
        // each sample keeps a KV cache of the whole context: ten million of them are far over any machine here
        userError("this run needs ", "sample", "--device", "jvm", "--model", ckpt, "--samples", "10000000");
        userError("--recompute", "train", "--device", "jvm", "--data", text.toString(), "--model", "tiny", "--batch",
                "2000000", "--out", dir.resolve("big").toString());
        assertFalse(Files.exists(dir.resolve("big")));
    }
}
