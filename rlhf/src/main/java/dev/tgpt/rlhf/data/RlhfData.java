package dev.tgpt.rlhf.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.Jsonl;

/**
 * InstructGPT's three data sets as JSONL, in the field names of Hugging Face TRL's standard (non-conversational)
 * formats, one example a line, blank lines skipped, other fields ignored:
 * <ul>
 * <li>demonstrations (SFT): {@code {"prompt": "...", "completion": "..."}};
 * <li>comparisons (reward model): {@code {"prompt": "...", "chosen": "...", "rejected": "..."}} (a ranking of two)
 * or {@code {"prompt": "...", "ranking": ["best", ..., "worst"]}} with 2 to 9 responses, mixed freely in one file;
 * <li>prompts (PPO): {@code {"prompt": "..."}}.
 * </ul>
 * A mistake in a file is a {@link UserError} naming the file and the line. A prompt must not be empty; a completion or
 * a response may be (with an end-of-text token it still teaches something). Writers replace a file atomically.
 */
public final class RlhfData {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RlhfData() {
    }

    public static List<Demonstration> demonstrations(Path jsonl) {
        return read(jsonl, line -> new Demonstration(prompt(line), string(line, "completion")));
    }

    public static List<Comparison> comparisons(Path jsonl) {
        return read(jsonl, RlhfData::comparison);
    }

    public static List<String> prompts(Path jsonl) {
        return read(jsonl, RlhfData::prompt);
    }

    public static void writeDemonstrations(Path jsonl, List<Demonstration> demonstrations) {
        Jsonl.write(jsonl, demonstrations.stream().map(d -> node(d.prompt()).put("completion", d.completion())).toList());
    }

    /** Writes each comparison in the ranking form, pairs included. */
    public static void writeComparisons(Path jsonl, List<Comparison> comparisons) {
        Jsonl.write(jsonl, comparisons.stream().map(c -> {
            ObjectNode n = node(c.prompt());
            c.ranking().forEach(n.putArray("ranking")::add);
            return n;
        }).toList());
    }

    public static void writePrompts(Path jsonl, List<String> prompts) {
        Jsonl.write(jsonl, prompts.stream().map(RlhfData::node).toList());
    }

    private static <T> List<T> read(Path file, Function<Jsonl.Line, T> example) {
        List<T> examples = new ArrayList<>();
        for (Jsonl.Line line : Jsonl.read(file)) {
            if (!line.json().isObject()) {
                throw line.error("expected a JSON object, found " + line.json().getNodeType().toString().toLowerCase(Locale.ROOT));
            }
            examples.add(example.apply(line));
        }
        if (examples.isEmpty()) {
            throw new UserError(file + " holds no examples");
        }
        return List.copyOf(examples);
    }

    private static Comparison comparison(Jsonl.Line line) {
        String prompt = prompt(line);
        JsonNode n = line.json();
        boolean pair = n.has("chosen") || n.has("rejected");
        if (n.has("ranking") == pair) {
            throw line.error(pair ? "has both \"ranking\" and \"chosen\"/\"rejected\": give one or the other"
                    : "expected \"chosen\" and \"rejected\", or a \"ranking\" (best first)");
        }
        if (pair) {
            return new Comparison(prompt, List.of(string(line, "chosen"), string(line, "rejected")));
        }
        JsonNode ranking = n.get("ranking");
        if (!ranking.isArray()) {
            throw line.error("\"ranking\" must be an array of responses, best first");
        }
        if (ranking.size() < Comparison.MIN_RESPONSES || ranking.size() > Comparison.MAX_RESPONSES) {
            throw line.error("\"ranking\" has " + ranking.size() + " responses: rank " + Comparison.MIN_RESPONSES + " to "
                    + Comparison.MAX_RESPONSES);
        }
        List<String> responses = new ArrayList<>();
        for (int i = 0; i < ranking.size(); i++) {
            if (!ranking.get(i).isTextual()) {
                throw line.error("\"ranking\"'s response " + (i + 1) + " is not a string");
            }
            responses.add(ranking.get(i).asText());
        }
        return new Comparison(prompt, responses);
    }

    private static String prompt(Jsonl.Line line) {
        String prompt = string(line, "prompt");
        if (prompt.isEmpty()) {
            throw line.error("the prompt is empty");
        }
        return prompt;
    }

    private static String string(Jsonl.Line line, String field) {
        JsonNode v = line.json().get(field);
        if (v == null) {
            throw line.error("no \"" + field + "\"");
        }
        if (!v.isTextual()) {
            throw line.error("\"" + field + "\" is not a string");
        }
        return v.asText();
    }

    /** A line to write, holding the prompt. */
    private static ObjectNode node(String prompt) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("an empty prompt would not read back");
        }
        return NODES.objectNode().put("prompt", prompt);
    }
}
