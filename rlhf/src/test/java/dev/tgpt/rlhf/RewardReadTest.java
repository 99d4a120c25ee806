package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.data.CharTokenizer;

/**
 * The reward is read at each response's real last token, whatever pads the row: with pad = EOS (as here, the newline
 * ends a response and pads the rest) a reward read at the row's end would be read at padding instead.
 */
class RewardReadTest {

    @Test
    void rewardOfAPaddedRowEqualsTheRewardOfTheSequenceAlone() {
        CharTokenizer tokenizer = CharTokenizer.of("abcdefgh \n");
        GptConfig config = new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 24, 2, 2, 16, 0f, 0);
        Parameters params = new Parameters(config);
        params.initialise(3);
        Gpt model = new Gpt(config, params);
        RewardHead head = new RewardHead(1, 1, 16, 4);
        head.bias.set(0, 0.3f);
        List<Sequences> rows = List.of(Sequences.of(tokenizer, "ab ", "cad\n", false, 24), Sequences.of(tokenizer, "h", "gg fed\n", false, 24));
        JvmBackend backend = new JvmBackend();
        int T = 20;
        RewardHead batched = head.reshaped(2, 1);
        float[] inBatch = new float[2];
        try (Scorer s = new Scorer(model, backend, 2, T, batched)) {
            s.score((inputs, targets) -> {
                for (int b = 0; b < 2; b++) {
                    rows.get(b).fill(b, T, inputs, targets);
                    batched.rows.set(b, b * T + rows.get(b).last());
                }
            });
            inBatch[0] = batched.rewards.get(0);
            inBatch[1] = batched.rewards.get(1);
        }
        for (int b = 0; b < 2; b++) {
            Sequences q = rows.get(b);
            int alone = q.tokens().length;
            try (Scorer s = new Scorer(model, backend, 1, alone, head)) {
                s.score((inputs, targets) -> {
                    q.fill(0, alone, inputs, targets);
                    head.rows.set(0, q.last());
                });
                // the same sums over the same causal prefix; only the matmul's blocking may change with T: 1e-5
                assertEquals(head.rewards.get(0), inBatch[b], 1e-5, "sequence " + b);
            }
        }
    }
}
