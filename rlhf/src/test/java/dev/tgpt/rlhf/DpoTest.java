package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.kernels.DpoReference;
import dev.tgpt.rlhf.data.Comparison;

/** DPO on a tiny random model, on the JVM backend and the TornadoVM device. */
class DpoTest {

    @TempDir
    Path dir;

    static java.util.stream.Stream<Backend> backends() {
        return TestBackends.all();
    }

    static final String TEXT = "abcdefgh \n".repeat(40);
    static final float BETA = 0.5f;

    @Test
    void aRankingCountsAsItsPairs() {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        List<Dpo.Pair> pairs = Dpo.pairs(tokenizer, List.of(new Comparison("ab", List.of("c", "d", "e")), new Comparison("h", List.of("a", "b"))), 16);
        assertEquals(4, pairs.size());
        String[][] want = { { "c", "d" }, { "c", "e" }, { "d", "e" }, { "a", "b" } };
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i][0], tokenizer.decode(Rollouts.responseTokens(pairs.get(i).chosen())));
            assertEquals(want[i][1], tokenizer.decode(Rollouts.responseTokens(pairs.get(i).rejected())));
        }
    }

    /**
     * Six steps preferring one spelling of each response over its reverse: the first step starts at the reference
     * (rewards exactly 0: the reference's log-probabilities come from the same kernels; loss log 2 to float rounding),
     * every TRL figure is logged, the loss falls, the last batch's preferences are all learnt and the held-out margin grows. Then the last held-out loss, against
     * DPO's loss computed apart: the per-token losses of the final and the starting weights from a plain forward pass
     * ({@link Scorer}), summed and combined by {@link DpoReference} in double. Tolerance 1e-5: float32 sums of ~10
     * losses of a few nats.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void startsAtTheReferenceLearnsAndLogsDposLoss(Backend backend) throws Exception {
        CharTokenizer tokenizer = CharTokenizer.of(TEXT);
        // the main job's depth: on a TornadoVM device a 4-layer training step is cut into several task graphs
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 12, 4, 2, 16, 0f, 0);
        Parameters start = new Parameters(config);
        start.initialise(1);
        Parameters params = new Parameters(config);
        params.initialise(1);
        List<Comparison> train = new ArrayList<>();
        String[] words = { "abc", "de", "fgh", "ah", "bd", "ceg" };
        for (int i = 0; i < 12; i++) {
            String w = words[i % words.length];
            train.add(new Comparison(w.substring(0, 1), List.of(w, new StringBuilder(w).reverse().toString())));
        }
        List<Comparison> val = train.subList(0, 3);
        Trainer.Options o = Pipeline.options(Trainer.Options.defaults(), 2 * 2, 12, 6, 1e-2f, 0, 1);
        Dpo.Result r = Dpo.train(new Gpt(config, params), tokenizer, train, val, backend, new Dpo.Settings(o, 2, BETA, 5, dir),
                new TrainingRun.Listener() {
                });
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            lines.add(json.readTree(l));
        }
        assertEquals(6, lines.size());
        JsonNode first = lines.getFirst();
        assertEquals(0.0, first.get("rewards/chosen").asDouble(), 0.0, first.toString());
        assertEquals(0.0, first.get("rewards/rejected").asDouble(), 0.0, first.toString());
        assertEquals(Math.log(2), first.get("loss").asDouble(), 1e-6, first.toString());
        for (JsonNode l : lines) {
            for (String key : List.of("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen",
                    "logps/rejected", "lr")) {
                assertTrue(l.has(key) && Double.isFinite(l.get(key).asDouble()), key + " in " + l);
            }
        }
        JsonNode last = lines.getLast();
        assertTrue(last.get("loss").asDouble() < 0.6, last.toString());
        assertEquals(1.0, last.get("rewards/accuracies").asDouble(), last.toString());
        assertTrue(last.get("val_loss").asDouble() < Math.log(2) && last.get("val_rewards/margins").asDouble() > 0, last.toString());
        assertEquals(last.get("val_loss").floatValue(), r.valLoss());

        Checkpoint trained = Checkpoint.load(r.checkpoint());
        List<Dpo.Pair> pairs = Dpo.pairs(tokenizer, val, 12);
        double[] policy = logps(new Gpt(config, trained.parameters()), pairs, backend);
        double[] reference = logps(new Gpt(config, start), pairs, backend);
        double sum = 0;
        for (int p = 0; p < pairs.size(); p++) {
            double margin = BETA * ((policy[2 * p] - reference[2 * p]) - (policy[2 * p + 1] - reference[2 * p + 1]));
            sum += Math.log1p(Math.exp(-margin));
        }
        assertEquals(sum / pairs.size(), last.get("val_loss").asDouble(), 1e-5);
    }

    /** Each pair's two log-probabilities (chosen, rejected) from the per-token losses of a plain forward pass. */
    private static double[] logps(Gpt model, List<Dpo.Pair> pairs, Backend backend) {
        int T = model.config.context();
        double[] out = new double[2 * pairs.size()];
        try (Scorer scorer = new Scorer(model, backend, 2, T, null)) {
            for (int p = 0; p < pairs.size(); p++) {
                Dpo.Pair pair = pairs.get(p);
                scorer.score((inputs, targets) -> {
                    pair.chosen().fill(0, T, inputs, targets);
                    pair.rejected().fill(1, T, inputs, targets);
                });
                double[] losses = new double[2 * T];
                for (int i = 0; i < losses.length; i++) {
                    losses[i] = scorer.activations().losses.get(i);
                }
                double[] logp = DpoReference.logps(losses, scorer.activations().targets.toHeapArray(), 2, T);
                out[2 * p] = logp[0];
                out[2 * p + 1] = logp[1];
            }
        }
        return out;
    }
}
