package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.TokenFile;

/** The llm.c runner without llm.c: its files, its parsing, and shell scripts standing in for train_gpt2. */
class LlmcTest {

    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n";
    static final CharTokenizer CHARS = CharTokenizer.of(TEXT);
    static final GptConfig MODEL = new GptConfig(GptConfig.Style.GPT2, CHARS.vocabSize(), 64, 2, 2, 8, 0f, 0);

    @TempDir
    Path dir;

    @Test
    void parsesTheStepLinesAmongTheRest() {
        String out = """
                [GPT-2]
                max_seq_len: 64
                val loss 4.174
                step 0: train loss 4.181530 (took 35.210000 ms)
                step 1: train loss 4.102 (took 12.5 ms)
                generating:
                ---
                step 2: a line that only looks like one
                ---
                step 2: train loss -nan (took 11.000000 ms)
                """;
        List<Llmc.Step> steps = Llmc.parse(out);
        assertEquals(3, steps.size());
        assertEquals(new Llmc.Step(0, 4.18153f, 35.21), steps.get(0));
        assertEquals(new Llmc.Step(1, 4.102f, 12.5), steps.get(1));
        assertTrue(Float.isNaN(steps.get(2).loss()));
        assertEquals(11.0, steps.get(2).ms());
    }

    @Test
    void writesTheFilesTrainGpt2OpensUnderItsNames() throws Exception {
        int[] train = tokens(1000, 1);
        int[] val = tokens(300, 2);
        Parameters p = new Parameters(MODEL);
        p.initialise(1);
        Llmc.prepare(dir, MODEL, p, CHARS, train, val);

        ByteBuffer model = read(dir.resolve("gpt2_124M.bin"));
        int[] header = new int[8];
        model.asIntBuffer().get(header);
        assertArrayEquals(new int[] { 20240326, 3, 64, CHARS.vocabSize(), 2, 2, 8, 128 }, header);
        assertEquals(1024 + 4L * (p.count() + (128 - CHARS.vocabSize()) * 8), model.capacity());

        assertArrayEquals(train, TokenFile.read(dir.resolve("dev/data/tinyshakespeare/tiny_shakespeare_train.bin")));
        assertArrayEquals(val, TokenFile.read(dir.resolve("dev/data/tinyshakespeare/tiny_shakespeare_val.bin")));

        ByteBuffer tok = read(dir.resolve("gpt2_tokenizer.bin"));
        assertEquals(20240328, tok.getInt(0));
        assertEquals(2, tok.getInt(4));
        assertEquals(CHARS.vocabSize(), tok.getInt(8));
        assertEquals(CHARS.encode("\n")[0], tok.getInt(12), "the end-of-text token is the newline");
        tok.position(1024);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < CHARS.vocabSize(); i++) {
            byte[] b = new byte[tok.get() & 0xFF];
            tok.get(b);
            all.append(new String(b, StandardCharsets.UTF_8));
        }
        assertEquals(CHARS.decode(java.util.stream.IntStream.range(0, CHARS.vocabSize()).toArray()), all.toString());
        assertEquals(tok.capacity(), tok.position(), "nothing after the last token");
    }

    @Test
    void timesTheStepsAfterTheFirstAndSaysWhatItRan() throws Exception {
        // a stand-in that checks its files and reports OMP_NUM_THREADS in its step times
        Path fake = script("""
                test -f gpt2_124M.bin && test -f gpt2_tokenizer.bin && test -f dev/data/tinyshakespeare/tiny_shakespeare_val.bin || exit 3
                echo "step 0: train loss 4.2 (took 1000.0 ms)"
                for i in 1 2 3 4; do echo "val loss 4.1"; echo "step $i: train loss 4.1 (took $((OMP_NUM_THREADS * i)).0 ms)"; done
                """);
        List<String> log = new ArrayList<>();
        Result r = Llmc.run(fake, MODEL, params(), CHARS, tokens(1000, 1), tokens(1000, 2), 3, Peaks.UNKNOWN, log::add);
        assertEquals("llm.c(" + fake.getFileName() + ")", r.impl());
        assertEquals("cpu", r.device());
        assertEquals("train_step", r.name());
        assertEquals(Map.of("L", 2, "H", 2, "C", 8, "T", 64, "V", CHARS.vocabSize(), "B", 4), r.params());
        assertEquals(List.of("L", "H", "C", "T", "V", "B"), List.copyOf(r.params().keySet()));
        assertEquals(4, r.runs());
        assertEquals(7.5, r.medianMs(), 1e-9); // 3, 6, 9, 12 ms: step 0 dropped
        assertEquals(3.0, r.minMs(), 1e-9);
        assertTrue(r.note().contains("hard-coded") && r.note().contains("OMP_NUM_THREADS=3"), r.note());
        assertEquals(5, log.size(), "step lines are logged");
        assertTrue(Double.isFinite(r.gflops()) && r.gflops() > 0);
    }

    @Test
    void problemsAreUserErrorsThatSayWhat() throws Exception {
        Parameters p = params();
        int[] t = tokens(1000, 1);
        UserError missing = assertThrows(UserError.class,
                () -> Llmc.run(dir.resolve("nope"), MODEL, p, CHARS, t, t, 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(missing.getMessage().contains("is not a file"), missing.getMessage());

        Path plain = Files.writeString(dir.resolve("train_gpt2"), "not a program");
        UserError notExecutable = assertThrows(UserError.class, () -> Llmc.run(plain, MODEL, p, CHARS, t, t, 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(notExecutable.getMessage().contains("not executable"), notExecutable.getMessage());

        Path failing = script("echo 'Bad magic model file'; exit 1");
        UserError failed = assertThrows(UserError.class, () -> Llmc.run(failing, MODEL, p, CHARS, t, t, 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(failed.getMessage().contains("exit status 1") && failed.getMessage().contains("Bad magic model file"), failed.getMessage());

        Path silent = script("echo 'hello'");
        UserError noSteps = assertThrows(UserError.class, () -> Llmc.run(silent, MODEL, p, CHARS, t, t, 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(noSteps.getMessage().contains("no 'step N") && noSteps.getMessage().contains("hello"), noSteps.getMessage());

        GptConfig shortContext = new GptConfig(GptConfig.Style.GPT2, CHARS.vocabSize(), 32, 2, 2, 8, 0f, 0);
        Path any = script("exit 0");
        UserError context = assertThrows(UserError.class,
                () -> Llmc.run(any, shortContext, new Parameters(shortContext), CHARS, t, t, 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(context.getMessage().contains("T = 64"), context.getMessage());
        UserError tooFew = assertThrows(UserError.class, () -> Llmc.run(any, MODEL, p, CHARS, t, tokens(100, 3), 1, Peaks.UNKNOWN, s -> { }));
        assertTrue(tooFew.getMessage().contains("at least 257 tokens"), tooFew.getMessage());
    }

    private Path script(String body) throws Exception {
        Path f = Files.createTempFile(dir, "train_gpt2", ".sh");
        Files.writeString(f, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
        return f;
    }

    private static Parameters params() {
        Parameters p = new Parameters(MODEL);
        p.initialise(1);
        return p;
    }

    private static int[] tokens(int n, long seed) {
        return new Random(seed).ints(n, 0, CHARS.vocabSize()).toArray();
    }

    private static ByteBuffer read(Path f) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
