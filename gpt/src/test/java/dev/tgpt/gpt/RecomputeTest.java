package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.tgpt.engine.JvmBackend;

/**
 * Activation recomputation (--recompute) changes what is kept, not what is computed: backward recomputes GELU's output
 * and a layer's attention probabilities with the same kernels on the same inputs, so on the JVM backend losses and
 * weights are equal bit for bit; on a TornadoVM device (PoCL in SDK mode) a 12-layer model trains as the JVM backend
 * without recomputation does, to {@link DepthTest}'s tolerances.
 */
class RecomputeTest {

    /** Every style (post-LN GPT-1, pre-LN GPT-2, GPT-3 with banded layers), with dropout, at 4 layers. */
    @ParameterizedTest
    @EnumSource(GptConfig.Style.class)
    void sameLossesAndWeightsBitForBitOnTheJvm(GptConfig.Style style) {
        GptConfig c = new GptConfig(style, 67, 16, 4, 3, 45, 0.1f, style == GptConfig.Style.GPT3 ? 4 : 0);
        Trainer.Options o = DepthTest.options(2, 16);
        Gpt kept = DepthTest.model(c, 3);
        Gpt recomputed = DepthTest.model(c, 3);
        float[] want = DepthTest.train(kept, new JvmBackend(), o);
        float[] got = DepthTest.train(recomputed, new JvmBackend(), o.recompute(true));
        assertArrayEquals(want, got, style + ": losses");
        for (int i = 0; i < kept.params.tensors().size(); i++) {
            Parameters.Tensor a = kept.params.tensors().get(i);
            Parameters.Tensor b = recomputed.params.tensors().get(i);
            assertArrayEquals(a.data().toHeapArray(), b.data().toHeapArray(), style + ": " + a.name());
        }
    }

    /** One GELU output and one attention-probability buffer instead of one per layer. */
    @Test
    void keepsOneLayersGeluOutputAndProbabilities() {
        GptConfig c = GptConfig.preset("gpt2-124m");
        int B = 8, T = 1024, L = c.layers();
        long perLayer = 4L * (B * T * 4L * c.channels() + (long) B * c.heads() * T * T);
        assertEquals((L - 1) * perLayer, Gpt.activationFootprint(c, B, T, false).bytes() - Gpt.activationFootprint(c, B, T, true).bytes());
    }

    @Test
    void twelveLayerGpt2OnTheDeviceAsOnTheJvm() {
        DepthTest.trainsAlike(DepthTest.narrow(GptConfig.Style.GPT2), DepthTest.options(2, 8), DepthTest.options(2, 8).recompute(true));
    }

    /** Banded layers keep [B, NH, T, K] probabilities, dense ones [B, NH, T, T]: one buffer serves both. */
    @Test
    void twelveLayerGpt3OnTheDeviceAsOnTheJvm() {
        DepthTest.trainsAlike(DepthTest.narrow(GptConfig.Style.GPT3), DepthTest.options(2, 8), DepthTest.options(2, 8).recompute(true));
    }
}
