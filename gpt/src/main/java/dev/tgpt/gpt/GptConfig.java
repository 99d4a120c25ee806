package dev.tgpt.gpt;

import dev.tgpt.engine.UserError;

/**
 * A decoder's shape.
 *
 * @param style      GPT1: post-LN blocks, no final LN; GPT2: pre-LN blocks and a final LN; GPT3: GPT2's blocks with
 *                   dense and locally banded sparse attention in alternating layers (odd layers are banded)
 * @param band       GPT3's local band: a banded layer's query attends to the {@code band} latest positions
 * @param dropout    applied to the embeddings and to each residual branch while training (GPT-2's embd/resid pdrop)
 */
public record GptConfig(Style style, int vocabSize, int context, int layers, int heads, int channels, float dropout, int band) {

    public enum Style {
        GPT1, GPT2, GPT3
    }

    public GptConfig {
        if (vocabSize < 1 || context < 1 || layers < 1 || heads < 1 || channels < 1) {
            throw new UserError("model sizes must be positive: vocab " + vocabSize + ", context " + context + ", layers " + layers
                    + ", heads " + heads + ", channels " + channels);
        }
        if (channels % heads != 0) {
            throw new UserError("channels (" + channels + ") must be a multiple of heads (" + heads + ")");
        }
        if (dropout < 0 || dropout >= 1) {
            throw new UserError("dropout must be in [0, 1), not " + dropout);
        }
        if (style == Style.GPT3 && band < 1) {
            throw new UserError("a GPT-3 model needs a local band of at least 1 position");
        }
    }

    public int headSize() {
        return channels / heads;
    }

    /** Whether layer l uses locally banded sparse attention (GPT-3's odd layers). */
    public boolean banded(int layer) {
        return style == Style.GPT3 && layer % 2 == 1;
    }

    public GptConfig withVocabSize(int v) {
        return new GptConfig(style, v, context, layers, heads, channels, dropout, band);
    }

    public GptConfig withDropout(float p) {
        return new GptConfig(style, vocabSize, context, layers, heads, channels, p, band);
    }

    /** Named sizes: the papers' models, and small ones for tests and CPUs. */
    public static GptConfig preset(String name) {
        return switch (name) {
            // GPT-1 (Radford et al. 2018): 12 layers, 768 wide, 12 heads, context 512, a 40,478-token BPE.
            case "gpt1" -> new GptConfig(Style.GPT1, 40478, 512, 12, 12, 768, 0.1f, 0);
            // GPT-2 (Radford et al. 2019), as released: context 1,024, vocabulary 50,257.
            case "gpt2", "gpt2-124m" -> gpt2(12, 12, 768);
            case "gpt2-355m", "gpt2-medium" -> gpt2(24, 16, 1024);
            case "gpt2-774m", "gpt2-large" -> gpt2(36, 20, 1280);
            case "gpt2-1.5b", "gpt2-xl" -> gpt2(48, 25, 1600);
            // GPT-3 (Brown et al. 2020, table 2.1): context 2,048; banded layers alternate with dense ones.
            case "gpt3-small" -> gpt3(12, 12, 768);
            case "gpt3-medium" -> gpt3(24, 16, 1024);
            case "gpt3-large" -> gpt3(24, 16, 1536);
            case "gpt3-xl" -> gpt3(24, 24, 2048);
            case "gpt3-2.7b" -> gpt3(32, 32, 2560);
            case "gpt3-6.7b" -> gpt3(32, 32, 4096);
            // The table prints d_model 5,140 with 40 heads of 128: 40 × 128 = 5,120.
            case "gpt3-13b" -> gpt3(40, 40, 5120);
            case "gpt3-175b" -> gpt3(96, 96, 12288);
            // Character-level Shakespeare on two CPU cores (README's main job); the vocabulary comes from the data.
            case "shakespeare-char" -> new GptConfig(Style.GPT2, 65, 64, 4, 4, 128, 0f, 0);
            // nanoGPT's shakespeare_char config (6 layers, 6 heads, 384 wide, context 256, dropout 0.2).
            case "nanogpt-shakespeare-char" -> new GptConfig(Style.GPT2, 65, 256, 6, 6, 384, 0.2f, 0);
            case "tiny" -> new GptConfig(Style.GPT2, 97, 16, 2, 3, 24, 0f, 0);
            default -> throw new UserError("no model preset '" + name + "'; presets: gpt1, gpt2, gpt2-355m, gpt2-774m, gpt2-1.5b, gpt3-small, "
                    + "gpt3-medium, gpt3-large, gpt3-xl, gpt3-2.7b, gpt3-6.7b, gpt3-13b, gpt3-175b, shakespeare-char, "
                    + "nanogpt-shakespeare-char, tiny");
        };
    }

    private static GptConfig gpt2(int layers, int heads, int channels) {
        return new GptConfig(Style.GPT2, 50257, 1024, layers, heads, channels, 0.1f, 0);
    }

    private static GptConfig gpt3(int layers, int heads, int channels) {
        // The paper does not give the band; 256 is the Sparse Transformer's local window at this context.
        return new GptConfig(Style.GPT3, 50257, 2048, layers, heads, channels, 0f, 256);
    }
}
