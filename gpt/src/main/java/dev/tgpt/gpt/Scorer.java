package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;

/**
 * A frozen model's forward pass on one shape, without dropout and without gradients or optimizer state: scores texts
 * (per-position losses, −log p of each target) and runs a head's forward (a reward model's rewards). Only the batch's
 * tokens, targets and the head's inputs go in; the losses and the head's outputs come out. A scorer of weights that a
 * trainer holds too (a LoRA policy's reference: its weights with the adapters off) runs in the trainer's session
 * ({@link #hosted}), so that a device holds those weights once.
 */
public final class Scorer implements AutoCloseable {

    private final Gpt.Activations act;
    private final Program score;
    private final Session session;
    /** Runs the program: in this scorer's session, or in a trainer's ({@link #hosted}). */
    private java.util.function.Consumer<Program> runner;

    /** @param head run after the model's forward; null: none */
    public Scorer(Gpt model, Backend backend, int batch, int context, Head head) {
        this(model, backend, batch, context, head, true);
    }

    /**
     * A scorer whose program opens in a trainer's session, not in one of its own: pass {@link #program()} among the
     * trainer's extra programs, then {@link #runIn} the trainer.
     */
    public static Scorer hosted(Gpt model, int batch, int context, Head head) {
        return new Scorer(model, null, batch, context, head, false);
    }

    private Scorer(Gpt model, Backend backend, int batch, int context, Head head, boolean own) {
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
        session = own ? backend.open(score) : null;
        runner = own ? session::run : p -> {
            throw new IllegalStateException("a hosted scorer runs in the trainer it was given to (runIn)");
        };
    }

    /** The scoring program, for a trainer that hosts it. */
    public Program program() {
        return score;
    }

    /** Runs this hosted scorer's program in {@code trainer}'s session, which must have opened it. */
    public Scorer runIn(Trainer trainer) {
        runner = trainer::run;
        return this;
    }

    /** The activations whose tokens and targets a batch fills; {@code losses} holds −log p per position after a run. */
    public Gpt.Activations activations() {
        return act;
    }

    /** Fills one batch and runs the forward pass on it. */
    public void score(Trainer.BatchSource data) {
        data.next(act.tokens, act.targets);
        runner.accept(score);
    }

    @Override
    public void close() {
        if (session != null) {
            session.close();
        }
    }
}
