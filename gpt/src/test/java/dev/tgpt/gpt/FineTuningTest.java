package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Labelled;
import dev.tgpt.gpt.io.Checkpoint;

/** GPT-1 fine-tuning learns a task whose answer sits at the text's first token, far from the last one it reads. */
class FineTuningTest {

    static Path examples(Path dir, String name, int n, long seed) throws Exception {
        Random r = new Random(seed);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            boolean yes = r.nextBoolean();
            StringBuilder text = new StringBuilder(yes ? "x" : "y");
            for (int k = 3 + r.nextInt(8); k > 0; k--) {
                text.append((char) ('a' + r.nextInt(4)));
            }
            s.append("{\"text\": \"").append(text).append("\", \"label\": \"").append(yes ? "starts with x" : "starts with y").append("\"}\n");
        }
        Path f = dir.resolve(name);
        Files.writeString(f, s);
        return f;
    }

    @Test
    void aClassifierOnTheLastTokenLearnsTheTask(@TempDir Path dir) throws Exception {
        CharTokenizer tok = CharTokenizer.of("abcdxy");
        GptConfig c = new GptConfig(GptConfig.Style.GPT1, tok.vocabSize(), 16, 2, 2, 32, 0f, 0);
        Labelled train = Labelled.read(examples(dir, "train.jsonl", 400, 1), tok, null, 16);
        Labelled val = Labelled.read(examples(dir, "val.jsonl", 100, 2), tok, train.labels(), 16);
        Parameters p = new Parameters(c);
        p.initialise(3);
        Trainer.Options o = Trainer.Options.defaults().batch(16).context(16).steps(200).accumulation(1).lr(3e-3f).minLr(3e-4f).warmup(10).weightDecay(0.01f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(1f).seed(4);
        FineTuning.Result r = FineTuning.run(new Gpt(c, p), tok, train, val, new JvmBackend(), new FineTuning.Settings(o, 0.5f, 100, dir),
                new TrainingRun.Listener() {
                });
        assertTrue(r.valAccuracy() >= 0.95, "validation accuracy " + r.valAccuracy());
        assertEquals(200, r.steps());
        assertTrue(Files.readString(dir.resolve("metrics.jsonl")).contains("\"val_acc\""));
        try (Safetensors head = Safetensors.open(dir.resolve("classifier.safetensors"))) {
            assertEquals("[\"starts with x\",\"starts with y\"]", head.metadata().get("labels"));
            assertEquals(2 * 32, head.floats("score.weight").getSize());
        }
        assertEquals(c, Checkpoint.load(r.checkpoint()).config());
    }

    @Test
    void badExamplesAreUserErrorsWithTheirLine(@TempDir Path dir) throws Exception {
        CharTokenizer tok = CharTokenizer.of("abc");
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"text\": \"ab\", \"label\": 1}\n{\"text\": \"ab\"}\n");
        UserError e = assertThrows(UserError.class, () -> Labelled.read(f, tok, null, 8));
        assertTrue(e.getMessage().startsWith(f + ":2: expected"), e.getMessage());
        Files.writeString(f, "{\"text\": \"ab\", \"label\": 1}\n{\"text\": \"ba\", \"label\": 1}\n");
        assertTrue(assertThrows(UserError.class, () -> Labelled.read(f, tok, null, 8)).getMessage().contains("at least two"));
        Files.writeString(f, "{\"text\": \"ab\", \"label\": 3}\n");
        assertTrue(assertThrows(UserError.class, () -> Labelled.read(f, tok, List.of("1", "2"), 8)).getMessage()
                .contains(":1: label '3' is not one of the training labels"));
    }
}
