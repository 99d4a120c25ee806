package dev.tgpt.gpt.data;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

import dev.tgpt.engine.UserError;

/** GPT-2's byte-level BPE (tiktoken's r50k_base, through jtokkit): 50,257 tokens, the last one <|endoftext|>. */
public final class Gpt2Tokenizer implements Tokenizer {

    static final String TYPE = "gpt2";
    public static final int VOCAB_SIZE = 50257;
    public static final int END_OF_TEXT = 50256;

    // The lazy registry parses only r50k_base, not the other (larger) vocabularies jtokkit ships.
    private static final Encoding BPE = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    /** Plain text: a literal "<|endoftext|>" in it is encoded as ordinary characters, not as the special token. */
    @Override
    public int[] encode(String text) {
        return BPE.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        IntArrayList ids = new IntArrayList(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= VOCAB_SIZE) {
                throw new UserError("token " + tokens[i] + " at position " + i + " is outside GPT-2's vocabulary of " + VOCAB_SIZE + " tokens");
            }
            ids.add(tokens[i]);
        }
        return BPE.decode(ids);
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    @Override
    public int endOfText() {
        return END_OF_TEXT;
    }

    @Override
    public ObjectNode describe() {
        return JsonNodeFactory.instance.objectNode().put("type", TYPE);
    }
}
