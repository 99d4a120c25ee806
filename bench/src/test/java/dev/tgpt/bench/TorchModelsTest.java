package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.io.LlmcCheckpoint;

/**
 * bench/python/torch_models.py builds the model tgpt trains: on the same weights (through llm.c's file) and batch,
 * both give the same loss before and after one AdamW step, and PyTorch's KV-cache decoding agrees with its full
 * forward. Skipped where no Python has PyTorch.
 */
class TorchModelsTest {

    static final String CHECK = """
            import json, sys, torch
            sys.path.insert(0, sys.argv[1])
            import torch_models as tm
            m = tm.load_llmc(sys.argv[2])
            d = json.loads(sys.argv[3])
            x, y = torch.tensor(d["x"]), torch.tensor(d["y"])
            opt = tm.adamw(m, lr=d["lr"])
            _, loss0 = m(x, y)
            loss0.backward()
            opt.step()
            with torch.no_grad():
                _, loss1 = m(x, y)
                full, _ = m(x[:1])
                cache = tm.kv_cache(m, "cpu")
                diff = max(float((m(x[:1, t:t + 1], cache=cache, pos=t)[0][0, -1] - full[0, t]).abs().max()) for t in range(x.size(1)))
            print(loss0.item(), loss1.item(), diff)
            """;

    @Test
    void pytorchsModelComputesTheSameLossAndStepAsOurs(@TempDir Path dir) throws Exception {
        String python = List.of("python3", "/usr/bin/python3").stream().filter(p -> Torch.unavailable(p) == null).findFirst().orElse(null);
        assumeTrue(python != null, "no Python with PyTorch");
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, 23, 16, 2, 2, 16, 0f, 0);
        Parameters p = new Parameters(config);
        p.initialise(1);
        // biases and layer norms off their initial 0 and 1, so that a mis-wired one shows
        SplittableRandom noise = new SplittableRandom(2);
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) + (float) noise.nextDouble(-0.05, 0.05));
            }
        }
        Path file = dir.resolve("model.bin");
        LlmcCheckpoint.write(file, config, p);
        int B = 2;
        int T = 16;
        Random r = new Random(3);
        int[] x = r.ints(B * T, 0, 23).toArray();
        int[] y = r.ints(B * T, 0, 23).toArray();
        float lr = 1e-3f;

        float ours0;
        float ours1;
        Trainer.Options o = Trainer.Options.defaults().batch(B).context(T).steps(Integer.MAX_VALUE).accumulation(1).lr(lr).minLr(lr).warmup(0).weightDecay(0.1f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(0f).seed(1);
        try (Trainer trainer = new Trainer(new Gpt(config, p), new JvmBackend(), o)) {
            Trainer.BatchSource batch = (in, tg) -> {
                for (int i = 0; i < B * T; i++) {
                    in.set(i, x[i]);
                    tg.set(i, y[i]);
                }
            };
            ours0 = trainer.trainStep(batch);
            ours1 = trainer.evaluate(batch, 1);
        }

        String json = String.format(java.util.Locale.ROOT, "{\"x\": %s, \"y\": %s, \"lr\": %s}", rows(x, T), rows(y, T), lr);
        Process proc = new ProcessBuilder(python, "-c", CHECK, Path.of("python").toAbsolutePath().toString(), file.toString(), json)
                .redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes()).trim();
        assertEquals(0, proc.waitFor(), out);
        String[] f = out.substring(out.lastIndexOf('\n') + 1).split(" ");
        double torch0 = Double.parseDouble(f[0]);
        double torch1 = Double.parseDouble(f[1]);
        assertEquals(torch0, ours0, 1e-4, "loss before the step");
        assertEquals(torch1, ours1, 1e-4, "loss after one AdamW step");
        assertTrue(ours0 - ours1 > 0.01, "the step moved the loss: " + ours0 + " -> " + ours1);
        assertTrue(Double.parseDouble(f[2]) < 1e-4, "PyTorch's cached decoding matches its full forward: " + f[2]);
    }

    /** B rows of T tokens as a JSON list of lists. */
    private static String rows(int[] tokens, int T) {
        StringBuilder s = new StringBuilder("[");
        for (int b = 0; b < tokens.length / T; b++) {
            s.append(b == 0 ? "" : ", ").append(Arrays.toString(Arrays.copyOfRange(tokens, b * T, (b + 1) * T)));
        }
        return s.append("]").toString();
    }
}
