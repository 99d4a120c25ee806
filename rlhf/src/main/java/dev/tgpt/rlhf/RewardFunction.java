package dev.tgpt.rlhf;

/**
 * A reward computed by code instead of a learned reward model (a unit test that passes, an answer that matches, a
 * format that parses), for GRPO: called on the host once per sampled response. The demo's {@link Labeler} is one.
 */
@FunctionalInterface
public interface RewardFunction {

    /**
     * @param prompt   the prompt as text
     * @param response the sampled response as text, without its end token
     * @param ended    whether the response ended with the end token (false: cut off at the length limit)
     */
    double score(String prompt, String response, boolean ended);
}
