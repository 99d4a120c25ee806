package dev.tgpt.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.AtomicFile;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.TokenFile;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.LlmcCheckpoint;
import dev.tgpt.rlhf.Sequences;

/**
 * llm.c's CPU trainer (train_gpt2.c), built by the user, timed on our model: its main() reads fixed file names from its
 * working directory, so a temporary directory gets our weights, token files and vocabulary under those names; it runs
 * 41 steps of batch 4 × 64 tokens and prints each one's time, of which step 0 is dropped as the warm-up. Nothing of
 * llm.c is part of tgpt.
 */
public final class Llmc {

    /** train_gpt2.c's main() hard-codes its batch. */
    static final int B = 4;
    static final int T = 64;
    static final String MODEL = "gpt2_124M.bin";
    static final String TRAIN = "dev/data/tinyshakespeare/tiny_shakespeare_train.bin";
    static final String VAL = "dev/data/tinyshakespeare/tiny_shakespeare_val.bin";
    static final String TOKENIZER = "gpt2_tokenizer.bin";
    /** llm.c's tokenizer.h: a header of 256 uint32 (magic, version 2, vocabulary, end-of-text id), then length-prefixed tokens. */
    static final int TOKENIZER_MAGIC = 20240328;
    static final int TOKENIZER_VERSION = 2;
    private static final Pattern STEP = Pattern.compile("step (\\d+): train loss (\\S+) \\(took (\\S+) ms\\)");

    /** One training step as train_gpt2.c prints it. */
    record Step(int step, float loss, double ms) {
    }

    private Llmc() {
    }

    /**
     * Runs the binary on the model (GPT-2 style, context at least 64) and the tokens with OMP_NUM_THREADS = threads;
     * returns the train_step record at B = 4, T = 64 (impl "llm.c(BINARY's file name)", so that builds with other flags
     * sit side by side; device "cpu").
     *
     * @param tokenizer the vocabulary, for the sample train_gpt2.c prints at steps 20 and 40
     * @param log       receives its step lines as they come
     */
    public static Result run(Path binary, GptConfig config, Parameters params, Tokenizer tokenizer, int[] train, int[] val, int threads,
            Peaks peaks, Consumer<String> log) {
        if (!Files.isRegularFile(binary)) {
            throw new UserError("llm.c: " + binary + " is not a file; give the path of train_gpt2 built from llm.c's train_gpt2.c");
        }
        if (!Files.isExecutable(binary)) {
            throw new UserError("llm.c: " + binary + " is not executable (chmod +x it, or give the compiled train_gpt2)");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("tgpt-llmc");
            prepare(dir, config, params, tokenizer, train, val);
            ProcessBuilder pb = new ProcessBuilder(binary.toAbsolutePath().toString()).directory(dir.toFile()).redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            Process p = pb.start();
            StringBuilder output = new StringBuilder();
            try (var lines = p.inputReader(StandardCharsets.UTF_8).lines()) {
                lines.forEach(line -> {
                    output.append(line).append('\n');
                    if (STEP.matcher(line).find()) {
                        log.accept("llm.c " + line);
                    }
                });
            }
            int rc = p.waitFor();
            if (rc != 0) {
                throw new UserError("llm.c: " + binary + " failed (exit status " + rc + "); the end of its output:\n" + tail(output));
            }
            List<Step> steps = parse(output.toString());
            if (steps.size() < 2) {
                throw new UserError("llm.c: " + binary + " printed " + (steps.isEmpty() ? "no" : "only one") + " 'step N: train loss X (took Y ms)'"
                        + " line" + (steps.isEmpty() ? "s" : "") + "; is it train_gpt2 built from llm.c's train_gpt2.c? The end of its output:\n"
                        + tail(output));
            }
            double[] ms = steps.stream().skip(1).mapToDouble(Step::ms).toArray();
            Case c = ModelCases.trainStep(config, B, T, 0);
            return Result.of(c, "llm.c(" + binary.getFileName() + ")", "cpu", "CPU, " + threads + " threads (OpenMP)", Stats.of(ms), peaks, String.format(Locale.ROOT,
                    "train_gpt2.c's own step times (data loading, forward, backward, AdamW lr 1e-4, betas 0.9/0.999, no weight decay, "
                            + "no clipping), steps 1-%d of its fixed run, step 0 dropped as the warm-up; B = 4 and T = 64 are hard-coded in "
                            + "train_gpt2.c; OMP_NUM_THREADS=%d; loss at step 0 %.4f",
                    steps.getLast().step(), threads, steps.getFirst().loss()));
        } catch (IOException e) {
            throw new UserError("llm.c: cannot run " + binary + " (" + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("llm.c: interrupted");
        } finally {
            deleteTree(dir);
        }
    }

    /** Writes the files train_gpt2.c's main() opens, under the names it opens them by, into dir. */
    static void prepare(Path dir, GptConfig config, Parameters params, Tokenizer tokenizer, int[] train, int[] val) {
        if (config.context() < T) {
            throw new UserError("llm.c's trainer runs T = " + T + " tokens per sequence; the model's context is only " + config.context());
        }
        for (int[] split : List.of(train, val)) {
            if (split.length < B * T + 1) {
                throw new UserError("llm.c's trainer needs at least " + (B * T + 1) + " tokens in each split; one has " + split.length);
            }
        }
        LlmcCheckpoint.write(dir.resolve(MODEL), config, params);
        TokenFile.write(dir.resolve(TRAIN), train);
        TokenFile.write(dir.resolve(VAL), val);
        writeTokenizer(dir.resolve(TOKENIZER), tokenizer);
    }

    /**
     * llm.c's tokenizer file: every token's UTF-8 bytes, and as its end-of-text token (which starts train_gpt2.c's
     * samples) the vocabulary's own, or else the newline, as for a character model.
     */
    static void writeTokenizer(Path file, Tokenizer tokenizer) {
        int V = tokenizer.vocabSize();
        ByteBuffer header = ByteBuffer.allocate(256 * 4).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(TOKENIZER_MAGIC).putInt(TOKENIZER_VERSION).putInt(V).putInt(Sequences.eos(tokenizer)).clear();
        AtomicFile.write(file, ch -> {
            AtomicFile.writeFully(ch, header);
            for (int i = 0; i < V; i++) {
                byte[] b = tokenizer.decode(new int[] { i }).getBytes(StandardCharsets.UTF_8);
                if (b.length == 0 || b.length > 255) {
                    // tokenizer.h asserts a length of 1 to 255 bytes; such a token only shows in llm.c's sample
                    b = "?".getBytes(StandardCharsets.UTF_8);
                }
                AtomicFile.writeFully(ch, ByteBuffer.allocate(1 + b.length).put((byte) b.length).put(b).flip());
            }
        });
    }

    /** The step lines of train_gpt2.c's output, in order. */
    static List<Step> parse(String output) {
        List<Step> steps = new ArrayList<>();
        Matcher m = STEP.matcher(output);
        while (m.find()) {
            steps.add(new Step(Integer.parseInt(m.group(1)), number(m.group(2)), Double.parseDouble(m.group(3))));
        }
        return steps;
    }

    /** C's printf of a float; its "nan" and "-nan" are NaN. */
    private static float number(String s) {
        return s.toLowerCase(java.util.Locale.ROOT).contains("nan") ? Float.NaN : Float.parseFloat(s);
    }

    /** The last 20 lines. */
    private static String tail(CharSequence output) {
        List<String> lines = output.toString().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temporary directory is not worth failing the benchmark for
        }
    }
}
