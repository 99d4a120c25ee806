package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One forward and backward pass with dropout off: the logits, the mean cross-entropy against the targets and every
 * parameter's gradient. This is what {@code ./tgpt grads} writes, to check the engine against another implementation.
 */
public final class Gradients {

    /** logits [B·T·V], the mean loss over non-ignored targets, and the gradients, shaped like the parameters. */
    public record Result(FloatArray logits, float loss, Parameters grads) {
    }

    private Gradients() {
    }

    public static Result compute(GptConfig config, Parameters params, Backend backend, int[] inputs, int[] targets, int B, int T) {
        if (inputs.length != B * T || targets.length != B * T) {
            throw new UserError("inputs and targets must each hold B·T = " + B * T + " ids, not " + inputs.length + " and " + targets.length);
        }
        if (T > config.context()) {
            throw new UserError("T = " + T + " exceeds the model's context of " + config.context());
        }
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] < 0 || inputs[i] >= config.vocabSize()) {
                throw new UserError("input id " + inputs[i] + " at position " + i + " is outside the vocabulary of " + config.vocabSize());
            }
            if (targets[i] >= config.vocabSize()) {
                throw new UserError("target id " + targets[i] + " at position " + i + " is outside the vocabulary of " + config.vocabSize());
            }
        }
        GptConfig exact = config.withDropout(0f);
        Gpt model = new Gpt(exact, params);
        Parameters grads = new Parameters(exact);
        Gpt.Activations a = model.activations(B, T);
        int counted = 0;
        for (int i = 0; i < B * T; i++) {
            a.tokens.set(i, inputs[i]);
            a.targets.set(i, targets[i]);
            counted += targets[i] >= 0 ? 1 : 0;
        }
        if (counted == 0) {
            throw new UserError("every target is ignored (negative): there is no loss to differentiate");
        }
        a.dlosses.init(1f / counted);
        List<Object> state = new ArrayList<>();
        params.tensors().forEach(t -> state.add(t.data()));
        grads.tensors().forEach(t -> state.add(t.data()));
        state.addAll(a.buffers());
        Program p = new Program("gradients").state(state.toArray()).inputs(a.tokens, a.targets, a.dlosses).outputs(a.logits, a.losses);
        model.forward(a, true).forEach(p::add);
        model.backward(a, grads).forEach(p::add);
        try (Session s = backend.open(p)) {
            s.run(p);
            s.read(grads.tensors().stream().map(Parameters.Tensor::data).toArray());
        }
        double loss = 0;
        for (int i = 0; i < B * T; i++) {
            if (targets[i] >= 0) {
                loss += a.losses.get(i);
            }
        }
        return new Result(a.logits, (float) (loss / counted), grads);
    }
}
