package dev.tgpt.gpt;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.Jsonl;

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
        List<Example> examples = new ArrayList<>();
        for (Jsonl.Line line : Jsonl.read(file)) {
            JsonNode n = line.json();
            if (!n.path("input").isTextual() || !n.path("output").isTextual()) {
                throw line.error("expected {\"input\": \"...\", \"output\": \"...\"}");
            }
            examples.add(new Example(n.get("input").asText(), n.get("output").asText()));
        }
        return examples;
    }
}
