package dev.tgpt.engine.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import dev.tgpt.engine.UserError;

/**
 * Writes a file so that a reader never sees half of it: into a temporary file beside it, forced to disk, then renamed
 * into place (a plain move where the file system cannot rename atomically).
 */
public final class AtomicFile {

    /** What goes into the file. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel ch) throws IOException;
    }

    private AtomicFile() {
    }

    /** Writes {@code file}; an I/O failure is a {@link UserError} naming it, and leaves no temporary file behind. */
    public static void write(Path file, Body body) {
        Path tmp = null;
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UserError("cannot write " + file + " (" + e + ")", e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /** Writes {@code text} as UTF-8 into {@code file}, as {@link #write} does. */
    public static void writeString(Path file, String text) {
        write(file, ch -> writeFully(ch, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** A segment's bytes in native order (little-endian on every machine tgpt runs on, the order of the formats it writes). */
    public static void writeFully(FileChannel ch, MemorySegment seg) throws IOException {
        writeFully(ch, seg.asByteBuffer());
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // the write already failed; that error is the one to report
            }
        }
    }
}
