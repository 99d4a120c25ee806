package dev.tgpt.gpt.data;

import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;

/**
 * One token per character (Unicode code point, as Python counts characters): the vocabulary is the sorted distinct
 * characters of a training text, as in nanoGPT's shakespeare_char.
 */
public final class CharTokenizer implements Tokenizer {

    static final String TYPE = "char";

    /** Code points in increasing order; a token id is an index here. */
    private final int[] chars;

    private CharTokenizer(int[] chars) {
        this.chars = chars;
    }

    /** The vocabulary of a training text. */
    public static CharTokenizer of(String text) {
        if (text.isEmpty()) {
            throw new UserError("no characters to build a vocabulary from: the text is empty");
        }
        return new CharTokenizer(text.codePoints().distinct().sorted().toArray());
    }

    static CharTokenizer fromDescription(JsonNode description) {
        int[] chars = description.path("chars").asText("").codePoints().toArray();
        if (chars.length == 0) {
            throw new UserError("character tokenizer description has no characters");
        }
        // Encoding binary-searches the vocabulary, so it must be strictly increasing.
        for (int i = 1; i < chars.length; i++) {
            if (chars[i] <= chars[i - 1]) {
                throw new UserError("character tokenizer description is not sorted and distinct: " + show(chars[i]) + " follows "
                        + show(chars[i - 1]));
            }
        }
        return new CharTokenizer(chars);
    }

    @Override
    public int[] encode(String text) {
        int[] points = text.codePoints().toArray();
        int[] ids = new int[points.length];
        for (int i = 0; i < points.length; i++) {
            ids[i] = Arrays.binarySearch(chars, points[i]);
            if (ids[i] < 0) {
                throw new UserError("character " + show(points[i]) + " at position " + i + " is not in the vocabulary of " + chars.length
                        + " characters");
            }
        }
        return ids;
    }

    @Override
    public String decode(int[] tokens) {
        StringBuilder s = new StringBuilder(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= chars.length) {
                throw new UserError("token " + tokens[i] + " at position " + i + " is outside the vocabulary of " + chars.length + " characters");
            }
            s.appendCodePoint(chars[tokens[i]]);
        }
        return s.toString();
    }

    @Override
    public int vocabSize() {
        return chars.length;
    }

    @Override
    public int endOfText() {
        return -1;
    }

    @Override
    public ObjectNode describe() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("type", TYPE);
        d.put("chars", new String(chars, 0, chars.length));
        return d;
    }

    /** A character for a one-line message: escaped when invisible, with its code point. */
    static String show(int c) {
        String literal = switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> Character.isISOControl(c) || Character.isWhitespace(c) && c != ' ' || !Character.isDefined(c)
                    ? String.format("\\u%04X", c) : Character.toString(c);
        };
        return "'" + literal + "' (U+" + String.format("%04X", c) + ")";
    }
}
