package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;

/**
 * The mean cross-entropy of a model's next-token predictions along texts, computed through its decoding program (the
 * KV cache, one position a step, with the packed weights of {@link Gpt#decodingWith} if any): the loss of the model
 * as it generates, which is what packing the weights changes. B windows of T + 1 tokens, evenly spaced over the
 * tokens, are decoded side by side; each of their first T positions predicts the next token.
 */
public final class DecodingLoss {

    private DecodingLoss() {
    }

    /** The mean loss over B windows of T + 1 tokens of {@code tokens} (T at most the context). */
    public static double of(Gpt gpt, Backend backend, int[] tokens, int B, int T) {
        int V = gpt.config.vocabSize();
        if (T > gpt.config.context() || T < 1 || B < 1) {
            throw new UserError("windows of 1 to " + gpt.config.context() + " positions, and at least one, not " + B + " of " + T);
        }
        if (tokens.length < T + 1) {
            throw new UserError("the text has " + tokens.length + " tokens; the loss needs at least " + (T + 1));
        }
        Gpt.Activations act = gpt.decoder(B);
        List<Object> state = new ArrayList<>(gpt.decodingWeights());
        state.addAll(act.buffers());
        Program step = new Program("loss").state(state.toArray()).inputs(act.tokens, act.pos).outputs(act.logits);
        gpt.forward(act, false).forEach(step::add);
        long span = tokens.length - (T + 1);
        double sum = 0;
        try (Session s = backend.open(step)) {
            for (int t = 0; t < T; t++) {
                for (int b = 0; b < B; b++) {
                    int start = (int) (B == 1 ? 0 : span * b / (B - 1));
                    act.tokens.set(b, tokens[start + t]);
                    act.pos.set(b, t);
                }
                s.run(step);
                for (int b = 0; b < B; b++) {
                    int start = (int) (B == 1 ? 0 : span * b / (B - 1));
                    int next = tokens[start + t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < V; v++) {
                        max = Math.max(max, act.logits.get(b * V + v));
                    }
                    double z = 0;
                    for (int v = 0; v < V; v++) {
                        z += Math.exp(act.logits.get(b * V + v) - max);
                    }
                    sum += max + Math.log(z) - act.logits.get(b * V + next);
                }
            }
        }
        return sum / ((double) B * T);
    }
}
