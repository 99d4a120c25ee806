package dev.tgpt.gpt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.GptModel;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.data.Batches;
import dev.tgpt.gpt.data.CharTokenizer;

/** The embedding API, used from another package as a user's program would: public classes and methods only. */
class GptModelTest {

    @Test
    void packingNeedsWholeBlocks() {
        CharTokenizer tok = CharTokenizer.of("abc");
        try (GptModel gpt = GptModel.create(new GptConfig(GptConfig.Style.GPT2, 3, 8, 1, 2, 24, 0f, 0), tok, 1, "jvm")) {
            assertEquals(gpt, gpt.decodingWith(QuantMatmulOps.Format.FP32));
            assertThrows(UserError.class, () -> gpt.decodingWith(QuantMatmulOps.Format.INT8));
        }
    }

    @Test
    void createTrainScoreGenerateSaveAndLoad(@TempDir Path dir) {
        String text = "to be or not to be, that is the question. ".repeat(40);
        CharTokenizer tok = CharTokenizer.of(text);
        int[] tokens = tok.encode(text);
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tok.vocabSize(), 32, 2, 2, 32, 0f, 0);
        Trainer.Options options = Trainer.Options.defaults().batch(8).context(32).steps(60).accumulation(1).lr(3e-3f).minLr(3e-4f).warmup(5).weightDecay(0.1f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(1f).seed(1);
        try (GptModel gpt = GptModel.create(config, tok, 1, "jvm")) {
            double before = gpt.logLikelihood("that is the question");
            Batches batches = new Batches(tokens, 8, 32, 2);
            float first = gpt.trainStep(options, batches::next);
            float last = first;
            for (int i = 1; i < 60; i++) {
                last = gpt.trainStep(options, batches::next);
            }
            assertTrue(last < first, "training lowers the loss: " + first + " → " + last);
            double after = gpt.logLikelihood("that is the question");
            assertTrue(after > before, "the text becomes likelier: " + before + " → " + after);
            String out = gpt.generate("to be", new Sampler.Options(20, 0f, 0, 1f, List.of(), 1));
            assertEquals(20, out.length());
            gpt.save(dir.resolve("model"));
            try (GptModel loaded = GptModel.load(dir.resolve("model"), "jvm")) {
                assertEquals(after, loaded.logLikelihood("that is the question"), 1e-3);
                assertEquals(out, loaded.generate("to be", new Sampler.Options(20, 0f, 0, 1f, List.of(), 1)));
                // packed weights for generation: a trained model's greedy text barely moves (here: not at all)
                assertEquals(out, loaded.decodingWith(QuantMatmulOps.Format.BF16).generate("to be", new Sampler.Options(20, 0f, 0, 1f, List.of(), 1)));
            }
        }
    }
}
