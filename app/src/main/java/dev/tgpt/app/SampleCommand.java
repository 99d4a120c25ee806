package dev.tgpt.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.FewShot;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.io.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Generates text from a checkpoint or a Hugging Face GPT-2 directory, with a KV cache.",
                "Prompts: --prompt, --prompt-file (a text file is one prompt; a .jsonl file holds {\"prompt\": ...} per line), or a "
                        + "GPT-3-style task: --task, --examples (JSONL of {\"input\", \"output\"}), --shots K (0: zero-shot), --query." })
final class SampleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    PlanOption plan;

    @Mixin
    WeightsOption weights;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A checkpoint directory (e.g. runs/shakespeare/checkpoint), "
            + "a Hugging Face GPT-2 directory, or llm.c's gpt2_124M.bin.")
    Path model;

    @Option(names = "--prompt", description = "The text to continue. Default: a newline.")
    String prompt;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "A text file (one prompt) or a .jsonl file of {\"prompt\": ...}.")
    Path promptFile;

    @Option(names = "--task", description = "Few-shot: the task description.")
    String task;

    @Option(names = "--examples", paramLabel = "FILE", description = "Few-shot: solved examples, JSONL of {\"input\": ..., \"output\": ...}.")
    Path examples;

    @Option(names = "--shots", defaultValue = "0", description = "Few-shot: how many examples precede the query. Default: ${DEFAULT-VALUE}.")
    int shots;

    @Option(names = "--query", description = "Few-shot: the input to complete.")
    String query;

    @Option(names = "--separator", defaultValue = " => ", description = "Few-shot: between input and output. Default: '${DEFAULT-VALUE}'.")
    String separator;

    @Option(names = "--tokens", defaultValue = "300", description = "Most tokens to generate. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0: greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0: all). Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling threshold (1: off). Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--stop", description = "Stop at this text (repeatable). Few-shot prompts stop at a newline by default.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--samples", defaultValue = "1", description = "Samples per prompt, generated together. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (samples < 1) {
            throw new UserError("--samples must be at least 1");
        }
        List<String> prompts = prompts();
        List<String> batch = new ArrayList<>();
        for (String p : prompts) {
            for (int s = 0; s < samples; s++) {
                batch.add(p);
            }
        }
        GptConfig config = Checkpoint.header(model).config();
        plan.show("", MemoryPlan.weights(config).plus(weights.plan(config)).plus(MemoryPlan.decoding(config, batch.size())),
                device.backend(),
                "use fewer prompts or --samples (each sequence keeps a KV cache of the whole context), or a smaller model");
        if (plan.dryRun()) {
            return 0;
        }
        Checkpoint ckpt = Checkpoint.load(model);
        Gpt gpt = weights.model(ckpt);
        var out = spec.commandLine().getOut();
        try (Sampler sampler = new Sampler(gpt, device.backend(), batch.size())) {
            List<String> texts = sampler.generate(batch, ckpt.tokenizer(), new Sampler.Options(tokens, temperature, topK, topP, stop, seed));
            for (int i = 0; i < texts.size(); i++) {
                if (texts.size() > 1) {
                    out.println("--- sample " + (i + 1));
                }
                out.println(batch.get(i) + texts.get(i));
            }
        }
        out.flush();
        return 0;
    }

    private List<String> prompts() {
        if (query != null || task != null || examples != null) {
            if (query == null) {
                throw new UserError("a few-shot prompt needs --query (the input to complete)");
            }
            if (stop.isEmpty()) {
                stop.add("\n");
            }
            List<FewShot.Example> ex = examples == null ? List.of() : FewShot.read(examples);
            return List.of(FewShot.prompt(task, ex, shots, query, separator));
        }
        if (promptFile != null) {
            return promptFile.toString().endsWith(".jsonl") ? jsonlPrompts(promptFile) : List.of(read(promptFile));
        }
        return List.of(prompt == null ? "\n" : prompt);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static List<String> jsonlPrompts(Path file) {
        ObjectMapper json = new ObjectMapper();
        List<String> prompts = new ArrayList<>();
        List<String> lines = read(file).lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                JsonNode n = json.readTree(lines.get(i));
                if (n == null || !n.path("prompt").isTextual()) {
                    throw new UserError(file + ":" + (i + 1) + ": expected {\"prompt\": \"...\"}");
                }
                prompts.add(n.get("prompt").asText());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UserError(file + ":" + (i + 1) + ": not JSON (" + e.getOriginalMessage() + ")");
            }
        }
        if (prompts.isEmpty()) {
            throw new UserError(file + " holds no prompts");
        }
        return prompts;
    }
}
