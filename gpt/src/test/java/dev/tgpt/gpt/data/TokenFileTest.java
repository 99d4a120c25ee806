package dev.tgpt.gpt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;

class TokenFileTest {

    @Test
    void writesLlmcsLayoutAndReadsItBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("train.bin");
        int[] tokens = { 0, 1, 50256, 65535, 7 };
        TokenFile.write(file, tokens);
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(1024 + 2 * tokens.length, bytes.length);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(20240520, b.getInt(0));
        assertEquals(1, b.getInt(4));
        assertEquals(tokens.length, b.getInt(8));
        assertEquals((short) 50256, b.getShort(1024 + 4));
        assertArrayEquals(tokens, TokenFile.read(file));
        assertEquals(List.of(file), list(dir), "no temporary file left");
    }

    @Test
    void tokensBeyondUint16AreAUserErrorAndLeaveTheOldFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("train.bin");
        TokenFile.write(file, new int[] { 1, 2, 3 });
        UserError e = assertThrows(UserError.class, () -> TokenFile.write(file, new int[] { 1, 65536 }));
        assertTrue(e.getMessage().contains("token 65536 at position 1"), e.getMessage());
        assertThrows(UserError.class, () -> TokenFile.write(file, new int[] { -1 }));
        assertThrows(UserError.class, () -> TokenFile.write(file, new int[0]));
        assertArrayEquals(new int[] { 1, 2, 3 }, TokenFile.read(file));
        assertEquals(List.of(file), list(dir));
    }

    @Test
    void badFilesAreUserErrorsSayingWhatIsWrong(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.bin");
        TokenFile.write(good, new int[] { 5, 6, 7, 8 });
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = dir.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 1));
        assertMessage(truncated, "truncated");

        Path foreign = dir.resolve("foreign.bin");
        byte[] other = bytes.clone();
        other[0] ^= 1;
        Files.write(foreign, other);
        assertMessage(foreign, "not an llm.c token file");

        Path version = dir.resolve("version2.bin");
        byte[] v2 = bytes.clone();
        v2[4] = 2;
        Files.write(version, v2);
        assertMessage(version, "not an llm.c token file");

        Path none = dir.resolve("none.bin");
        Files.write(none, ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN).putInt(20240520).putInt(1).putInt(0).array());
        assertMessage(none, "no tokens");

        Path empty = Files.createFile(dir.resolve("empty.bin"));
        assertMessage(empty, "no tokens");

        Path text = dir.resolve("input.txt");
        Files.writeString(text, "not tokens");
        assertMessage(text, "not an llm.c token file");

        assertMessage(dir.resolve("missing.bin"), "no such file");
    }

    private static List<Path> list(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }

    private static void assertMessage(Path file, String problem) {
        UserError e = assertThrows(UserError.class, () -> TokenFile.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(problem), e.getMessage());
    }
}
