package dev.tgpt.rlhf.data;

import java.util.List;
import java.util.Objects;

/**
 * A labeler's ranking of K responses to one prompt (InstructGPT's reward-model data), best first. A pairwise
 * preference is a ranking of two: [chosen, rejected]. The same response may appear twice (two samples can agree).
 */
public record Comparison(String prompt, List<String> ranking) {

    /** InstructGPT's labelers ranked between 4 and 9 responses; a pair is the least that says anything. */
    public static final int MIN_RESPONSES = 2;
    public static final int MAX_RESPONSES = 9;

    public Comparison {
        Objects.requireNonNull(prompt, "prompt");
        ranking = List.copyOf(ranking);
        if (ranking.size() < MIN_RESPONSES || ranking.size() > MAX_RESPONSES) {
            throw new IllegalArgumentException("a ranking holds " + MIN_RESPONSES + " to " + MAX_RESPONSES + " responses, not " + ranking.size());
        }
    }
}
