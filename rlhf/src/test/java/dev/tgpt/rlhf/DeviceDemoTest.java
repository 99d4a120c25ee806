package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.TestBackends;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.io.Checkpoint;

/**
 * The RLHF demos' pipelines, shortened to a few steps of each stage, on the TornadoVM device of SDK mode (PoCL here):
 * pretraining, SFT, ranking samples, the reward model, PPO and PPO-ptx with rollouts sampled on the device, and DPO. The
 * Shakespeare demo's models have the main job's 4 layers, and PPO holds the policy, its value model, the reference
 * and the reward model in one process. At these sizes (batches of 16 to 32 sequences of 64 tokens) tornado-jvm's
 * emulator is far too slow for CI (the tiny demo was still in its reward-model stage after 16 minutes), so JVM mode
 * skips them; there PpoTest runs the same four models at 4 layers.
 */
class DeviceDemoTest {

    static final Path CORPUS = Path.of("../data/tinyshakespeare.txt");

    @TempDir
    Path dir;

    @BeforeEach
    void onARealDevice() {
        assumeFalse(TestBackends.emulated(), "the emulated device is far too slow at the demos' batch sizes");
    }

    static void assertRan(Map<String, Object> report, Path out) {
        for (Map.Entry<String, Object> e : report.entrySet()) {
            assertTrue(e.getValue() instanceof Number n && Double.isFinite(n.doubleValue()), e.getKey() + " = " + e.getValue());
        }
        for (String stage : List.of("sft", "rm", "ppo", "ppo-ptx", "dpo")) {
            assertTrue(Files.exists(out.resolve(stage).resolve("checkpoint/model.safetensors")), stage);
        }
    }

    /** `./tgpt rlhf --demo tiny`, shortened: it pretrains its own 2-layer model first. */
    @Test
    void tinyDemoRunsOnTheDevice() {
        Path out = dir.resolve("tiny");
        Map<String, Object> report = Demo.run(new Demo.Size(2, 2, 8, 4, 2, 1, 4, 64), null, CORPUS, out, java.util.EnumSet.allOf(Method.class), dev.tgpt.gpt.Trainer.Options.defaults(), TestBackends.device(),
                new TrainingRun.Listener() {
                });
        assertRan(report, out);
    }

    /** `./tgpt rlhf --demo shakespeare --init ...`, shortened, on a 4-layer model of the main job's size. */
    @Test
    void shakespeareDemoRunsOnTheDevice() {
        CharTokenizer tok = CharTokenizer.of(Dataset.readText(CORPUS));
        GptConfig c = GptConfig.preset("shakespeare-char").withVocabSize(tok.vocabSize());
        Parameters p = new Parameters(c);
        p.initialise(1);
        Checkpoint.save(dir.resolve("init"), c, tok, p, null);
        Path out = dir.resolve("shakespeare");
        Map<String, Object> report = Demo.run(new Demo.Size(0, 2, 8, 4, 2, 1, 4, 64), dir.resolve("init"), CORPUS, out, java.util.EnumSet.allOf(Method.class), dev.tgpt.gpt.Trainer.Options.defaults(), TestBackends.device(),
                new TrainingRun.Listener() {
                });
        assertRan(report, out);
    }
}
