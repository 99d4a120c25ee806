package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.io.Checkpoint;

/** Whole training runs on the JVM backend: reproducible, resumable bit for bit, stopped cleanly by a NaN. */
class TrainingRunTest {

    static final GptConfig CONFIG = new GptConfig(GptConfig.Style.GPT2, 1, 16, 2, 2, 16, 0.1f, 0);

    static Path text(Path dir) throws Exception {
        Random r = new Random(3);
        StringBuilder s = new StringBuilder();
        String[] words = { "to", "be", "or", "not", "that", "is", "the", "question", "\n" };
        for (int i = 0; i < 3000; i++) {
            s.append(words[r.nextInt(words.length)]).append(' ');
        }
        Path f = dir.resolve("text.txt");
        Files.writeString(f, s);
        return f;
    }

    static TrainingRun.Settings settings(Path out, int steps, float lr) {
        Trainer.Options o = Trainer.Options.defaults().batch(4).context(16).steps(steps).accumulation(2).lr(lr).minLr(lr / 10).warmup(2).weightDecay(0.1f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(1f).seed(7);
        return new TrainingRun.Settings(o, 3, 2, 0, 20, 2, null, out);
    }

    static float[] weights(Parameters p) {
        int n = (int) p.count();
        float[] all = new float[n];
        int i = 0;
        for (Parameters.Tensor t : p.tensors()) {
            for (int j = 0; j < t.size(); j++) {
                all[i++] = t.data().get(j);
            }
        }
        return all;
    }

    static Gpt fresh(CharTokenizer tok) {
        GptConfig c = CONFIG.withVocabSize(tok.vocabSize());
        Parameters p = new Parameters(c);
        p.initialise(5);
        return new Gpt(c, p);
    }

    @Test
    void aResumedRunContinuesBitForBit(@TempDir Path dir) throws Exception {
        Path file = text(dir);
        CharTokenizer tok = CharTokenizer.of(Dataset.readText(file));
        Dataset data = Dataset.fromText(file, tok);

        Gpt straight = fresh(tok);
        TrainingRun.run(straight, tok, data, new JvmBackend(), settings(dir.resolve("a"), 6, 3e-3f), null, new TrainingRun.Listener() {
        });

        // the same run, killed at step 5 (after the checkpoint of step 4), then resumed from disk
        Path b = dir.resolve("b");
        assertThrows(IllegalStateException.class, () -> TrainingRun.run(fresh(tok), tok, data, new JvmBackend(), settings(b, 6, 3e-3f), null,
                new TrainingRun.Listener() {
                    @Override
                    public void step(int step, int steps, float loss, Float valLoss, double tokensPerSecond) {
                        if (step == 5) {
                            throw new IllegalStateException("killed");
                        }
                    }
                }));
        Checkpoint ckpt = Checkpoint.load(TrainingRun.checkpointDir(b));
        assertEquals(4, ckpt.training().step());
        Gpt resumed = new Gpt(ckpt.config(), ckpt.parameters());
        TrainingRun.Result r = TrainingRun.run(resumed, ckpt.tokenizer(), data, new JvmBackend(), settings(b, 6, 3e-3f),
                ckpt.training(), new TrainingRun.Listener() {
                });
        assertEquals(6, r.steps());
        assertArrayEquals(weights(straight.params), weights(resumed.params));
    }

    @Test
    void aSeedFixesTheRun(@TempDir Path dir) throws Exception {
        Path file = text(dir);
        CharTokenizer tok = CharTokenizer.of(Dataset.readText(file));
        Dataset data = Dataset.fromText(file, tok);
        Gpt one = fresh(tok);
        Gpt two = fresh(tok);
        TrainingRun.Result a = TrainingRun.run(one, tok, data, new JvmBackend(), settings(dir.resolve("a"), 3, 3e-3f), null,
                new TrainingRun.Listener() {
                });
        TrainingRun.Result b = TrainingRun.run(two, tok, data, new JvmBackend(1), settings(dir.resolve("b"), 3, 3e-3f), null,
                new TrainingRun.Listener() {
                });
        assertEquals(a.trainLoss(), b.trainLoss());
        assertArrayEquals(weights(one.params), weights(two.params), "one thread or two: the same bits");
        assertTrue(a.trainLoss() < Math.log(tok.vocabSize()) + 0.5);
    }

    @Test
    void aNonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Path file = text(dir);
        CharTokenizer tok = CharTokenizer.of(Dataset.readText(file));
        Dataset data = Dataset.fromText(file, tok);
        Gpt model = fresh(tok);
        // a learning rate that overflows the weights within a few steps
        UserError e = assertThrows(UserError.class, () -> TrainingRun.run(model, tok, data, new JvmBackend(),
                settings(dir.resolve("run"), 40, 1e30f), null, new TrainingRun.Listener() {
                }));
        assertTrue(e.getMessage().startsWith("training stopped: the loss is"), e.getMessage());
        assertTrue(e.getMessage().contains(" at step "), e.getMessage());
        if (e.getMessage().contains("last good checkpoint")) {
            Checkpoint kept = Checkpoint.load(TrainingRun.checkpointDir(dir.resolve("run")));
            for (float w : weights(kept.parameters())) {
                assertTrue(Float.isFinite(w), "the kept checkpoint holds finite weights");
            }
        }
    }

    @Test
    void aDatasetSmallerThanTheContextIsAUserError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tiny.txt");
        Files.writeString(file, "abcdefghijklmnopqrstuvwxyz");
        CharTokenizer tok = CharTokenizer.of(Dataset.readText(file));
        Dataset data = Dataset.fromText(file, tok);
        UserError e = assertThrows(UserError.class, () -> TrainingRun.run(fresh(tok), tok, data, new JvmBackend(),
                settings(dir.resolve("run"), 2, 1e-3f), null, new TrainingRun.Listener() {
                }));
        assertTrue(e.getMessage().contains("too small for a context of 16"), e.getMessage());
    }
}
