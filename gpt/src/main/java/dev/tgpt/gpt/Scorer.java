package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;

/**
 * A frozen model's forward pass on one shape, without dropout and without gradients or optimizer state: scores texts
 * (per-position losses, −log p of each target) and runs a head's forward (a reward model's rewards). Only the batch's
 * tokens, targets and the head's inputs go in; the losses and the head's outputs come out.
 */
public final class Scorer implements AutoCloseable {

    private final Gpt.Activations act;
    private final Program score;
    private final Session session;

    /** @param head run after the model's forward; null: none */
    public Scorer(Gpt model, Backend backend, int batch, int context, Head head) {
        Gpt exact = model.withoutDropout();
        act = exact.activations(batch, context);
        List<Object> state = new ArrayList<>();
        state.addAll(model.weightArrays());
        state.addAll(act.buffers());
        List<Object> inputs = new ArrayList<>(List.of(act.tokens, act.targets));
        List<Object> outputs = new ArrayList<>(List.of(act.losses));
        if (head != null) {
            state.addAll(head.state());
            inputs.addAll(head.inputs());
            outputs.addAll(head.outputs());
        }
        score = new Program("score").state(state.toArray()).inputs(inputs.toArray()).outputs(outputs.toArray());
        exact.forward(act, false).forEach(score::add);
        if (head != null) {
            head.forward(act).forEach(score::add);
        }
        session = backend.open(score);
    }

    /** The activations whose tokens and targets a batch fills; {@code losses} holds −log p per position after a run. */
    public Gpt.Activations activations() {
        return act;
    }

    /** Fills one batch and runs the forward pass on it. */
    public void score(Trainer.BatchSource data) {
        data.next(act.tokens, act.targets);
        session.run(score);
    }

    @Override
    public void close() {
        session.close();
    }
}
