package dev.tgpt.gpt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;

class DatasetTest {

    @Test
    void splitsTheFirstNinetyPercentOfCharactersForTraining(@TempDir Path dir) throws Exception {
        // 95 characters, one of them outside the BMP: int(95 · 0.9) = 85 go to training, as in nanoGPT.
        String text = "😀" + "abcdefghij".repeat(9) + "wxyz";
        Path file = dir.resolve("input.txt");
        Files.writeString(file, text);
        CharTokenizer t = CharTokenizer.of(Dataset.readText(file));
        Dataset d = Dataset.fromText(file, t);
        assertEquals(85, d.train().length);
        assertEquals(10, d.val().length);
        assertEquals(text, t.decode(d.train()) + t.decode(d.val()));
    }

    @Test
    void encodesEachHalfWithTheTokenizer(@TempDir Path dir) throws Exception {
        String text = "Hello world. ".repeat(10);
        Path file = dir.resolve("input.txt");
        Files.writeString(file, text);
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        Dataset d = Dataset.fromText(file, t);
        int split = (int) (text.length() * 0.9);
        assertArrayEquals(t.encode(text.substring(0, split)), d.train());
        assertArrayEquals(t.encode(text.substring(split)), d.val());
    }

    @Test
    void readsTokenFiles(@TempDir Path dir) {
        TokenFile.write(dir.resolve("train.bin"), new int[] { 1, 2, 3 });
        TokenFile.write(dir.resolve("val.bin"), new int[] { 4 });
        Dataset d = Dataset.fromTokenFiles(dir.resolve("train.bin"), dir.resolve("val.bin"));
        assertArrayEquals(new int[] { 1, 2, 3 }, d.train());
        assertArrayEquals(new int[] { 4 }, d.val());
        assertThrows(UserError.class, () -> Dataset.fromTokenFiles(dir.resolve("train.bin"), dir.resolve("missing.bin")));
    }

    @Test
    void missingEmptyShortOrNonUtf8TextIsAUserError(@TempDir Path dir) throws Exception {
        Tokenizer t = new Gpt2Tokenizer();
        assertMessage(() -> Dataset.fromText(dir.resolve("missing.txt"), t), "no such file");
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        assertMessage(() -> Dataset.fromText(empty, t), "is empty");
        Path one = Files.writeString(dir.resolve("one.txt"), "x");
        assertMessage(() -> Dataset.fromText(one, t), "too few to split");
        Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] { 'a', 'b', 'c', (byte) 0xE9, 'd' });
        assertMessage(() -> Dataset.readText(latin1), "byte 0xE9 at offset 3");
    }

    private static void assertMessage(Runnable r, String problem) {
        UserError e = assertThrows(UserError.class, r::run);
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
