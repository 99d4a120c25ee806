package dev.tgpt.rlhf.data;

import java.util.Objects;

/** A labeler's demonstration for supervised fine-tuning (InstructGPT's SFT data): a prompt and the completion wanted. */
public record Demonstration(String prompt, String completion) {

    public Demonstration {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(completion, "completion");
    }
}
