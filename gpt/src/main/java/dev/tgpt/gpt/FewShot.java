package dev.tgpt.gpt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;

/**
 * Zero-, one- and few-shot prompts as in the GPT-3 paper (Brown et al. 2020, figure 2.1): a task description, K solved
 * examples, then the query, which the model completes.
 *
 * <pre>
 * Translate English to French:        ← task
 *
 * sea otter => loutre de mer          ← K examples ("input => output")
 * cheese =>                           ← the query
 * </pre>
 */
public final class FewShot {

    public record Example(String input, String output) {
    }

    private FewShot() {
    }

    public static String prompt(String task, List<Example> examples, int shots, String query, String separator) {
        if (shots < 0) {
            throw new UserError("the number of examples (shots) must not be negative: " + shots);
        }
        if (shots > examples.size()) {
            throw new UserError(shots + " examples asked for, but the examples file has " + examples.size());
        }
        StringBuilder p = new StringBuilder();
        if (task != null && !task.isBlank()) {
            p.append(task.strip()).append("\n\n");
        }
        for (Example e : examples.subList(0, shots)) {
            p.append(e.input()).append(separator).append(e.output()).append('\n');
        }
        return p.append(query).append(separator.stripTrailing()).toString();
    }

    /** Examples from JSONL, one {"input": ..., "output": ...} per line; a bad line is an error naming its number. */
    public static List<Example> read(Path file) {
        ObjectMapper json = new ObjectMapper();
        List<Example> examples = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                JsonNode n = json.readTree(lines.get(i));
                if (n == null || !n.path("input").isTextual() || !n.path("output").isTextual()) {
                    throw new UserError(file + ":" + (i + 1) + ": expected {\"input\": \"...\", \"output\": \"...\"}");
                }
                examples.add(new Example(n.get("input").asText(), n.get("output").asText()));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UserError(file + ":" + (i + 1) + ": not JSON (" + e.getOriginalMessage() + ")");
            }
        }
        return examples;
    }
}
