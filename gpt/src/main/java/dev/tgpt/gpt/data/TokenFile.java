package dev.tgpt.gpt.data;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.AtomicFile;

/**
 * llm.c's token files (dev/data/data_common.py): a header of 256 little-endian int32 (magic 20240520, version 1,
 * number of tokens), then the tokens as little-endian uint16.
 */
public final class TokenFile {

    static final int MAGIC = 20240520;
    static final int VERSION = 1;
    static final int HEADER_BYTES = 256 * 4;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TokenFile() {
    }

    /** Writes atomically ({@link AtomicFile}): a failure to write is a {@link UserError} naming the file. */
    public static void write(Path file, int[] tokens) {
        if (tokens.length == 0) {
            throw new UserError(file + ": no tokens to write");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] > 0xFFFF) {
                throw new UserError(file + ": token " + tokens[i] + " at position " + i + " does not fit llm.c's uint16 token files (0..65535)");
            }
        }
        AtomicFile.write(file, ch -> {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(MAGIC).putInt(VERSION).putInt(tokens.length).clear();
            AtomicFile.writeFully(ch, header);
            // In chunks: a file of a billion tokens is bigger than one ByteBuffer can be.
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < tokens.length;) {
                chunk.clear();
                while (i < tokens.length && chunk.hasRemaining()) {
                    chunk.putShort((short) tokens[i++]);
                }
                AtomicFile.writeFully(ch, chunk.flip());
            }
        });
    }

    public static int[] read(Path file) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new UserError(file + " is empty: no tokens");
            }
            if (size < HEADER_BYTES) {
                throw new UserError(file + " is " + size + " bytes, shorter than llm.c's " + HEADER_BYTES + "-byte header: not an llm.c token file");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            int magic = all.get(I32, 0);
            int version = all.get(I32, 4);
            if (magic != MAGIC || version != VERSION) {
                throw new UserError(file + " is not an llm.c token file (magic " + magic + ", version " + version + "; expected " + MAGIC
                        + ", " + VERSION + ")");
            }
            int count = all.get(I32, 8);
            if (count <= 0) {
                throw new UserError(file + " declares " + count + " tokens: no tokens");
            }
            long expected = HEADER_BYTES + 2L * count;
            if (size != expected) {
                throw new UserError(file + " declares " + count + " tokens (" + expected + " bytes) but has " + size + " bytes: "
                        + (size < expected ? "truncated" : "damaged"));
            }
            int[] tokens = new int[count];
            for (int i = 0; i < count; i++) {
                tokens[i] = all.get(U16, HEADER_BYTES + 2L * i) & 0xFFFF;
            }
            return tokens;
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")", e);
        }
    }
}
