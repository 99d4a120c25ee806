package dev.tgpt.rlhf;

import java.util.EnumSet;
import java.util.Locale;

import dev.tgpt.engine.UserError;

/**
 * What post-trains the SFT model: PPO against a reward model (the demo adds PPO-ptx), DPO on the same rankings, or
 * GRPO against the reward model (or a reward function) without a value model.
 */
public enum Method {
    PPO, DPO, GRPO;

    /** "ppo,dpo" (any order, any case) to the methods named; an unknown name is a user's mistake. */
    public static EnumSet<Method> parse(String names) {
        EnumSet<Method> out = EnumSet.noneOf(Method.class);
        for (String n : names.split(",")) {
            try {
                out.add(valueOf(n.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new UserError("no method '" + n.trim() + "'; methods: ppo, dpo, grpo, or several as ppo,dpo,grpo");
            }
        }
        return out;
    }
}
