package dev.tgpt.gpt.io;

import static dev.tgpt.gpt.io.TestModels.GPT2_VOCAB;
import static dev.tgpt.gpt.io.TestModels.assertSameParameters;
import static dev.tgpt.gpt.io.TestModels.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class LlmcCheckpointTest {

    /** llm.c pads GPT-2's vocabulary to a multiple of 128. */
    private static final int PADDED = 50304;

    @Test
    void readsAnFp32ModelFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gpt2_124M.bin");
        Parameters p = random(GPT2_VOCAB, 1);
        writeLlmc(file, p, LlmcCheckpoint.FP32, PADDED);
        Checkpoint c = Checkpoint.load(file);
        assertEquals(GPT2_VOCAB.withDropout(0), c.config());
        assertInstanceOf(Gpt2Tokenizer.class, c.tokenizer());
        assertNull(c.training());
        assertSameParameters(p, c.parameters());
    }

    @Test
    void readsABf16ModelFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gpt2_124M_bf16.bin");
        Parameters p = random(GPT2_VOCAB, 2);
        // Values that bf16 holds exactly, so the comparison can be exact.
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, Float.intBitsToFloat(Float.floatToRawIntBits(t.data().get(i)) & 0xFFFF0000));
            }
        }
        writeLlmc(file, p, LlmcCheckpoint.BF16, PADDED);
        assertSameParameters(p, LlmcCheckpoint.read(file).parameters());
    }

    @Test
    void theSameModelAsAHuggingFaceDirectoryAndAsAnLlmcFileLoadsIdentically(@TempDir Path dir) throws Exception {
        Parameters p = random(GPT2_VOCAB, 3);
        Checkpoint.save(dir.resolve("hf"), GPT2_VOCAB, new Gpt2Tokenizer(), p, null);
        writeLlmc(dir.resolve("model.bin"), p, LlmcCheckpoint.FP32, PADDED);
        Checkpoint hf = Checkpoint.load(dir.resolve("hf"));
        Checkpoint llmc = Checkpoint.load(dir.resolve("model.bin"));
        assertSameParameters(hf.parameters(), llmc.parameters());
        assertSameParameters(p, llmc.parameters());
    }

    @Test
    void writtenFilesReadBack(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub/gpt2_124M.bin");
        Parameters p = random(GPT2_VOCAB, 5);
        LlmcCheckpoint.write(file, GPT2_VOCAB, p);
        Checkpoint c = LlmcCheckpoint.read(file);
        assertEquals(GPT2_VOCAB.withDropout(0), c.config());
        assertSameParameters(p, c.parameters());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void aCharacterVocabularyIsPaddedWithZeroRowsToAMultipleOf128(@TempDir Path dir) throws Exception {
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, 65, 64, 2, 2, 8, 0f, 0);
        Parameters p = random(config, 6);
        Path file = dir.resolve("char.bin");
        LlmcCheckpoint.write(file, config, p);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[] header = new int[256];
        b.asIntBuffer().get(header);
        assertArrayEquals(new int[] { 20240326, 3, 64, 65, 2, 2, 8, 128 }, Arrays.copyOf(header, 8));
        assertTrue(Arrays.stream(header, 8, 256).allMatch(v -> v == 0), "the rest of the header is zero");
        assertEquals(1024 + 4L * (p.count() + (128 - 65) * 8), b.capacity());
        int C = 8;
        for (int i = 0; i < 65 * C; i++) {
            assertEquals(p.wte.get(i), b.getFloat(1024 + 4 * i), "wte " + i);
        }
        for (int i = 65 * C; i < 128 * C; i++) {
            assertEquals(0f, b.getFloat(1024 + 4 * i), "padding " + i);
        }
        // wpe follows the padded wte; lnfb ends the file
        assertEquals(p.wpe.get(0), b.getFloat(1024 + 4 * 128 * C));
        assertEquals(p.lnfb.get(C - 1), b.getFloat(b.capacity() - 4));
    }

    @Test
    void onlyGpt2ModelsAreWritten(@TempDir Path dir) {
        GptConfig gpt1 = new GptConfig(GptConfig.Style.GPT1, 65, 16, 1, 1, 8, 0f, 0);
        UserError e = assertThrows(UserError.class, () -> LlmcCheckpoint.write(dir.resolve("m.bin"), gpt1, new Parameters(gpt1)));
        assertTrue(e.getMessage().contains("GPT1"), e.getMessage());
    }

    @Test
    void badFilesAreUserErrors(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.bin");
        writeLlmc(good, random(GPT2_VOCAB, 4), LlmcCheckpoint.FP32, PADDED);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = Files.write(dir.resolve("truncated.bin"), Arrays.copyOf(bytes, bytes.length - 4));
        assertReadFails(truncated, "truncated");
        Path version = Files.write(dir.resolve("version.bin"), withHeader(bytes, 1, 4));
        assertReadFails(version, "llm.c model version 4 is not supported");
        Path foreign = Files.write(dir.resolve("foreign.bin"), withHeader(bytes, 0, 20240520));
        assertReadFails(foreign, "is not a checkpoint directory nor llm.c's model file", "magic number is 20240520");
        Path vocab = Files.write(dir.resolve("vocab.bin"), withHeader(bytes, 3, 1000));
        assertReadFails(vocab, "vocabulary 1000");
        Path heads = Files.write(dir.resolve("heads.bin"), withHeader(bytes, 5, 3));
        assertReadFails(heads, "multiple of heads");
        Path text = Files.writeString(dir.resolve("notes.txt"), "a text file");
        assertReadFails(text, "is not a checkpoint directory nor llm.c's model file");
    }

    private static void assertReadFails(Path file, String... problem) {
        UserError e = assertThrows(UserError.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String s : problem) {
            assertTrue(e.getMessage().contains(s), e.getMessage());
        }
    }

    private static byte[] withHeader(byte[] bytes, int index, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(4 * index, value);
        return copy;
    }

    /** train_gpt2.c's layout, written from the spec independently of the reader: header, then tensors in llm.c's order. */
    private static void writeLlmc(Path file, Parameters p, int version, int paddedVocab) throws IOException {
        GptConfig c = p.config;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : new int[] { 20240326, version, c.context(), c.vocabSize(), c.layers(), c.heads(), c.channels(), paddedVocab }) {
                header.putInt(v);
            }
            write(ch, header.clear());
            FloatArray padding = new FloatArray((paddedVocab - c.vocabSize()) * c.channels());
            padding.init(Float.NaN);
            write(ch, version, p.wte);
            write(ch, version, padding);
            write(ch, version, p.wpe);
            // ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb: each stacked over the layers.
            for (Function<Parameters.Layer, FloatArray> tensor : List.<Function<Parameters.Layer, FloatArray>>of(Parameters.Layer::ln1w,
                    Parameters.Layer::ln1b, Parameters.Layer::qkvw, Parameters.Layer::qkvb, Parameters.Layer::attprojw, Parameters.Layer::attprojb,
                    Parameters.Layer::ln2w, Parameters.Layer::ln2b, Parameters.Layer::fcw, Parameters.Layer::fcb, Parameters.Layer::fcprojw,
                    Parameters.Layer::fcprojb)) {
                for (Parameters.Layer layer : p.layers) {
                    write(ch, version, tensor.apply(layer));
                }
            }
            write(ch, version, p.lnfw);
            write(ch, version, p.lnfb);
        }
    }

    private static void write(FileChannel ch, int version, FloatArray a) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(a.getSize() * (version == LlmcCheckpoint.FP32 ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < a.getSize(); i++) {
            if (version == LlmcCheckpoint.FP32) {
                b.putFloat(a.get(i));
            } else {
                b.putShort((short) (Float.floatToRawIntBits(a.get(i)) >>> 16));
            }
        }
        write(ch, b.clear());
    }

    private static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
