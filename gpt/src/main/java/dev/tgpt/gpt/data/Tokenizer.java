package dev.tgpt.gpt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;

/** Text to token ids and back. A checkpoint stores {@link #describe()} so that loading it recreates the tokenizer. */
public interface Tokenizer {

    int[] encode(String text);

    String decode(int[] tokens);

    int vocabSize();

    /** The id of the end-of-text token, or -1 when the vocabulary has none. */
    int endOfText();

    /** A small JSON object, {"type": ...} plus what that type needs; {@link #fromDescription} reads it back. */
    ObjectNode describe();

    static Tokenizer fromDescription(JsonNode description) {
        String type = description.path("type").asText("");
        return switch (type) {
            case CharTokenizer.TYPE -> CharTokenizer.fromDescription(description);
            case Gpt2Tokenizer.TYPE -> new Gpt2Tokenizer();
            default -> throw new UserError("unknown tokenizer type '" + type + "' (known: " + CharTokenizer.TYPE + ", " + Gpt2Tokenizer.TYPE + ")");
        };
    }
}
