package dev.tgpt.rlhf;

import java.util.Arrays;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A prompt and its response as one row of a batch. A response ends with the end-of-text token, or, for a character
 * vocabulary that has none, with a newline (a response is one line). Rows longer than the context keep their last
 * T tokens, so the response's end, where a reward model reads, is never cut.
 */
public record Sequences(int[] tokens, int promptLength) {

    /** The token that ends a response. */
    public static int eos(Tokenizer tokenizer) {
        if (tokenizer.endOfText() >= 0) {
            return tokenizer.endOfText();
        }
        int[] newline = tokenizer.encode("\n");
        if (newline.length != 1) {
            throw new UserError("the tokenizer has no end-of-text token and no newline token to end responses with");
        }
        return newline[0];
    }

    /** Prompt and response tokens; with {@code endWithEos}, an end-of-response token is appended if missing. */
    public static Sequences of(Tokenizer tokenizer, String prompt, String response, boolean endWithEos, int context) {
        int[] p = tokenizer.encode(prompt);
        int[] r = tokenizer.encode(response);
        int eos = eos(tokenizer);
        if (p.length == 0) {
            throw new UserError("an empty prompt: every example needs at least one prompt token");
        }
        boolean append = endWithEos && (r.length == 0 || r[r.length - 1] != eos);
        int[] all = Arrays.copyOf(p, p.length + r.length + (append ? 1 : 0));
        System.arraycopy(r, 0, all, p.length, r.length);
        if (append) {
            all[all.length - 1] = eos;
        }
        int cut = Math.max(0, all.length - context);
        return new Sequences(Arrays.copyOfRange(all, cut, all.length), Math.max(1, p.length - cut));
    }

    /** Index of the last real token: where a reward model reads. */
    public int last() {
        return tokens.length - 1;
    }

    /**
     * Writes row b of a [B, T] batch: the tokens (padded with the last one), and next-token targets on the response
     * only (−1 on the prompt and the padding).
     */
    public void fill(int b, int T, IntArray inputs, IntArray targets) {
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            inputs.set(i, tokens[Math.min(t, last())]);
            targets.set(i, t + 1 <= last() && t + 1 >= promptLength ? tokens[t + 1] : -1);
        }
    }
}
