package dev.tgpt.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;

class AtomicFileTest {

    @Test
    void writesAndReplacesCreatingTheDirectory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/notes.txt");
        AtomicFile.writeString(file, "first");
        AtomicFile.writeString(file, "zweite \u00e9");
        assertEquals("zweite \u00e9", Files.readString(file));
        assertEquals(List.of(file), list(file.getParent()));
    }

    @Test
    void aFailedBodyIsAUserErrorNamingTheFileAndLeavesNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("out.bin");
        AtomicFile.writeString(file, "kept");
        UserError e = assertThrows(UserError.class, () -> AtomicFile.write(file, ch -> {
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("kept", Files.readString(file));
        assertEquals(List.of(file), list(dir));
    }

    @Test
    void aFailedRenameLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("taken");
        Files.createDirectories(file.resolve("inside"));
        UserError e = assertThrows(UserError.class, () -> AtomicFile.writeString(file, "text"));
        assertTrue(e.getMessage().startsWith("cannot write " + file), e.getMessage());
        assertEquals(List.of(file), list(dir));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
