package dev.tgpt.gpt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;

/**
 * How chat messages become one prompt (`./tgpt serve` and the LangChain4j models use it): each message through its
 * role's pattern, where {content} stands for its text, then {@code generation} for the model to continue; a reply ends
 * where the model writes {@code stop}. {@link #BASE}, for base GPT models, which were not trained on any chat format:
 *
 * <pre>
 * {system}
 *
 * User: {user}
 * Assistant: {assistant}
 * User: {user}
 * Assistant:
 * </pre>
 *
 * A checkpoint directory overrides it with a {@value #FILE} beside its config.json, holding the five strings by name
 * (a model fine-tuned on another format is served in that format).
 */
public record ChatTemplate(String system, String user, String assistant, String generation, String stop) {

    /** A chat message: role is system, user or assistant. */
    public record Message(String role, String content) {
    }

    public static final String FILE = "chat_template.json";
    static final String CONTENT = "{content}";

    /** The template for base models: a reply ends where the model begins the user's next turn. */
    public static final ChatTemplate BASE = new ChatTemplate("{content}\n\n", "User: {content}\n", "Assistant: {content}\n", "Assistant:", "\nUser:");

    /** The template of the model at path: its {@value #FILE} when it is a directory that has one, else {@link #BASE}. */
    public static ChatTemplate of(Path path) {
        Path file = path.resolve(FILE);
        if (!Files.isDirectory(path) || !Files.exists(file)) {
            return BASE;
        }
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new UserError(file + " is not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")");
        }
        if (json == null || !json.isObject()) {
            throw new UserError(file + " must be a JSON object of the strings system, user, assistant, generation and stop");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = json.properties().iterator(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!List.of("system", "user", "assistant", "generation", "stop").contains(e.getKey()) || !e.getValue().isTextual()) {
                throw new UserError(file + ": \"" + e.getKey() + "\" is not one of the strings system, user, assistant, generation and stop");
            }
        }
        ChatTemplate t = new ChatTemplate(text(json, "system", file), text(json, "user", file), text(json, "assistant", file),
                text(json, "generation", file), text(json, "stop", file));
        for (String role : List.of("system", "user", "assistant")) {
            if (!json.get(role).asText().contains(CONTENT)) {
                throw new UserError(file + ": \"" + role + "\" must contain " + CONTENT + " where the message's text goes");
            }
        }
        if (t.stop.isEmpty()) {
            throw new UserError(file + ": \"stop\" must not be empty (a reply ends where the model writes it)");
        }
        return t;
    }

    private static String text(JsonNode json, String key, Path file) {
        JsonNode v = json.get(key);
        if (v == null) {
            throw new UserError(file + " lacks \"" + key + "\" (it needs the strings system, user, assistant, generation and stop)");
        }
        return v.asText();
    }

    public String render(List<Message> messages) {
        StringBuilder s = new StringBuilder();
        for (Message m : messages) {
            String pattern = switch (m.role()) {
                case "system" -> system;
                case "user" -> user;
                case "assistant" -> assistant;
                default -> throw new IllegalArgumentException(m.role());
            };
            s.append(pattern.replace(CONTENT, m.content()));
        }
        return s.append(generation).toString();
    }
}
