package dev.tgpt.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.Fixtures;
import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class SafetensorsTest {

    @Test
    void roundTripsFloatsIntsAndMetadata(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.safetensors");
        FloatArray a = FloatArray.fromArray(new float[] { 1.5f, -2f, 3.25f, 0f, 7f, 8f });
        IntArray ids = IntArray.fromArray(new int[] { 3, 1, 4 });
        Safetensors.write(file, Map.of("a", new Safetensors.Entry(new long[] { 2, 3 }, a), "ids", new Safetensors.Entry(new long[] { 3 }, ids)),
                Map.of("kind", "test"));
        try (Safetensors s = Safetensors.open(file)) {
            assertArrayEquals(a.toHeapArray(), s.floats("a").toHeapArray());
            assertArrayEquals(ids.toHeapArray(), s.ints("ids").toHeapArray());
            assertArrayEquals(new long[] { 2, 3 }, s.tensor("a").shape());
            assertEquals("test", s.metadata().get("kind"));
        }
        assertEquals(0, Files.size(file) % 4);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void readsWhatPythonWrote() {
        try (Safetensors s = Fixtures.open("matmul")) {
            assertEquals(Fixtures.meta(s, "N") * Fixtures.meta(s, "C"), s.floats("x").getSize());
        }
    }

    @Test
    void truncatedFileIsAUserErrorNamingTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.safetensors");
        Safetensors.write(file, Map.of("a", new Safetensors.Entry(new long[] { 1000 }, new FloatArray(1000))), Map.of());
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length - 100));
        UserError e = assertThrows(UserError.class, () -> Safetensors.open(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void foreignFileIsAUserError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "these are not tensors, just a text file of some length");
        UserError e = assertThrows(UserError.class, () -> Safetensors.open(file));
        assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());
        assertThrows(UserError.class, () -> Safetensors.open(dir.resolve("missing.safetensors")));
    }

    @Test
    void wrongDtypeIsAUserError() {
        try (Safetensors s = Fixtures.open("crossentropy")) {
            assertThrows(UserError.class, () -> s.floats("targets"));
            assertThrows(UserError.class, () -> s.floats("no-such-tensor"));
        }
    }
}
