package dev.tgpt.gpt.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.AtomicFile;

/**
 * JSON Lines files: one JSON value per line, blank lines skipped. Mistakes in a file are {@link UserError}s that name
 * the file and the line ({@code data.jsonl:7: ...}).
 */
public final class Jsonl {

    /** Strict about the end of a line: two values on one line are a mistake, not the first value. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** One non-blank line of a file: its number (from 1) and its value. */
    public record Line(Path file, int number, JsonNode json) {

        /** A mistake on this line, for the caller to throw. */
        public UserError error(String message) {
            return new UserError(file + ":" + number + ": " + message);
        }
    }

    private Jsonl() {
    }

    /** The non-blank lines of a file, parsed; a missing file or a line that is not JSON is a {@link UserError}. */
    public static List<Line> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
        }
        List<Line> parsed = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                parsed.add(new Line(file, i + 1, JSON.readTree(lines.get(i))));
            } catch (JsonProcessingException e) {
                throw new UserError(file + ":" + (i + 1) + ": not JSON (" + e.getOriginalMessage() + ")");
            }
        }
        return parsed;
    }

    /** Writes one value a line, atomically ({@link AtomicFile}): a failure to write is a {@link UserError} naming the file. */
    public static void write(Path file, List<? extends JsonNode> values) {
        AtomicFile.write(file, ch -> {
            StringBuilder sb = new StringBuilder();
            for (JsonNode v : values) {
                // Jackson escapes control characters, so a value's newlines stay inside its line.
                sb.append(JSON.writeValueAsString(v)).append('\n');
            }
            AtomicFile.writeFully(ch, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
        });
    }
}
