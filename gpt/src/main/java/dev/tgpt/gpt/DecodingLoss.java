package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.CrossEntropyOps;

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
        if (T > gpt.config.context() || T < 1 || B < 1) {
            throw new UserError("windows of 1 to " + gpt.config.context() + " positions, and at least one, not " + B + " of " + T);
        }
        if (tokens.length < T + 1) {
            throw new UserError("the text has " + tokens.length + " tokens; the loss needs at least " + (T + 1));
        }
        Gpt.Activations act = gpt.decoder(B);
        List<Object> state = new ArrayList<>(gpt.weightArrays());
        state.addAll(act.buffers());
        // the cross-entropy kernel on the device: a step hands back B losses, not B rows of logits
        Program step = new Program("loss").state(state.toArray()).inputs(act.tokens, act.pos, act.targets).outputs(act.losses);
        gpt.forward(act, false).forEach(step::add);
        step.add(CrossEntropyOps.forward(act.losses, act.logSumExp, act.logits, act.targets, B, gpt.config.vocabSize()));
        long span = tokens.length - (T + 1);
        int[] starts = new int[B];
        for (int b = 0; b < B; b++) {
            starts[b] = (int) (B == 1 ? 0 : span * b / (B - 1));
        }
        double sum = 0;
        try (Session s = backend.open(step)) {
            for (int t = 0; t < T; t++) {
                for (int b = 0; b < B; b++) {
                    act.tokens.set(b, tokens[starts[b] + t]);
                    act.pos.set(b, t);
                    act.targets.set(b, tokens[starts[b] + t + 1]);
                }
                s.run(step);
                for (int b = 0; b < B; b++) {
                    sum += act.losses.get(b);
                }
            }
        }
        return sum / ((double) B * T);
    }
}
