package dev.tgpt.gpt.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import dev.tgpt.engine.UserError;

/** Training and validation tokens. */
public record Dataset(int[] train, int[] val) {

    /**
     * A text file's first 90% of characters for training and the rest for validation, each half encoded on its own,
     * as nanoGPT's shakespeare and shakespeare_char prepare.py split them.
     */
    public static Dataset fromText(Path file, Tokenizer tokenizer) {
        String text = readText(file);
        int characters = text.codePointCount(0, text.length());
        int split = (int) (characters * 0.9);
        if (split == 0 || split == characters) {
            throw new UserError(file + " has " + characters + " characters: too few to split 90/10 into training and validation text");
        }
        int at = text.offsetByCodePoints(0, split);
        return new Dataset(tokenizer.encode(text.substring(0, at)), tokenizer.encode(text.substring(at)));
    }

    /** Pre-tokenized llm.c token files ({@link TokenFile}). */
    public static Dataset fromTokenFiles(Path train, Path val) {
        return new Dataset(TokenFile.read(train), TokenFile.read(val));
    }

    /** A UTF-8 text file's contents; a missing, empty or non-UTF-8 file is a user error saying which. */
    public static String readText(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")", e);
        }
        if (bytes.length == 0) {
            throw new UserError(file + " is empty: no text to train on");
        }
        // A decoder rather than Files.readString, because it tells where the bad byte is.
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = utf8.decode(in, out, true);
        if (result.isError()) {
            throw new UserError(file + " is not UTF-8 text: byte 0x" + String.format("%02X", bytes[in.position()]) + " at offset "
                    + in.position() + " is invalid");
        }
        utf8.flush(out);
        return out.flip().toString();
    }
}
