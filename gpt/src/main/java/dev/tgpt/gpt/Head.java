package dev.tgpt.gpt;

import java.util.List;

import dev.tgpt.engine.Launch;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Something trained on top of a GPT's final hidden states ({@link Gpt.Activations#finalHidden()}): a classifier, a
 * reward or value head. The trainer updates its tensors with AdamW and clips them with the model's; its backward
 * adds into the gradient of the final hidden states, from where the model's backward continues.
 */
public interface Head {

    /** The trainable tensors (name, shape, decay), in a fixed order; none for an objective on the model's own outputs. */
    default List<Parameters.Tensor> tensors() {
        return List.of();
    }

    /** Gradient buffers, one per tensor, same sizes. */
    default List<FloatArray> gradients() {
        return List.of();
    }

    /** Device arrays the head keeps between runs (its tensors, gradients and scratch). */
    default List<Object> state() {
        return List.of();
    }

    /** Arrays copied to the device before each micro-step (labels, the rows to read). */
    List<Object> inputs();

    /** Arrays copied back after each micro-step (its losses, its outputs). */
    List<Object> outputs();

    List<Launch> forward(Gpt.Activations a);

    /**
     * Adds d(head loss) / d(final hidden) into {@link Gpt.Activations#finalHiddenGradient()} and into its own
     * gradients; none for an objective whose gradient {@link #forward} already put into d loss / d losses.
     */
    default List<Launch> backward(Gpt.Activations a) {
        return List.of();
    }
}
