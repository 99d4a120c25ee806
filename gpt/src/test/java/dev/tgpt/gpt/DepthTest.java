package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.data.CharTokenizer;

/**
 * Models of real depth on a TornadoVM device (tornado-jvm's emulated 0:0 in JVM mode; the real device in SDK mode,
 * e.g. PoCL with bailout off) give what the JVM backend gives. At 4 and 12 layers a training step is far over
 * TornadoVM 5.2's 1,024 nodes per task graph, so these runs go through several graphs per program, handing
 * parameters, gradients, moments and activations from graph to graph on the device.
 *
 * <p>Tolerances: the two backends sum in different orders (tiled kernels against Vector API loops), so values
 * agree to float rounding: losses to 1e-5 relative. AdamW moves every weight by about lr a step whatever the size of
 * its gradient (lr·m̂/(√v̂+ε)), so where a gradient component is near zero, its rounding error can change that
 * weight's step by a fraction of lr: the largest difference after three steps at lr 1e-3 may reach 1e-4 (0.1·lr; seen:
 * 1.8e-5), while fewer than 1 in 1,000 weights may differ by more than 1e-6. A wrong kernel or a stale buffer moves
 * weights by ~lr wholesale.
 */
class DepthTest {

    /** GPT-2-shaped and narrow: odd width (45) and vocabulary (67), head size 15 (not a power of two), 12 layers. */
    static GptConfig narrow(GptConfig.Style style) {
        return new GptConfig(style, 67, 16, 12, 3, 45, 0f, style == GptConfig.Style.GPT3 ? 4 : 0);
    }

    static Gpt model(GptConfig c, long seed) {
        Parameters p = new Parameters(c);
        p.initialise(seed);
        return new Gpt(c, p);
    }

    /** Trains three steps on each backend from the same weights and batches; returns nothing, asserts agreement. */
    static void trainsAlike(GptConfig c, int B, int T) {
        trainsAlike(c, options(B, T), options(B, T));
    }

    /** Three steps at lr 1e-3 with a one-step warmup and clipping. */
    static Trainer.Options options(int B, int T) {
        return Trainer.Options.defaults().batch(B).context(T).steps(3).lr(1e-3f).minLr(1e-4f).warmup(1).weightDecay(0.1f).beta2(0.95f).seed(11);
    }

    /** As above, the JVM backend trained with {@code jvm}'s options and the device with {@code device}'s. */
    static void trainsAlike(GptConfig c, Trainer.Options jvm, Trainer.Options device) {
        Gpt onJvm = model(c, 3);
        Gpt onDevice = model(c, 3);
        float[] jvmLosses = train(onJvm, new JvmBackend(), jvm);
        float[] deviceLosses = train(onDevice, TestBackends.device(), device);
        for (int s = 0; s < jvmLosses.length; s++) {
            assertEquals(jvmLosses[s], deviceLosses[s], 1e-5 * Math.abs(jvmLosses[s]), c + ": loss at step " + s);
        }
        assertWeightsAlike(onJvm.params, onDevice.params, 1e-4, c.toString());
    }

    static float[] train(Gpt model, Backend backend, Trainer.Options o) {
        float[] losses = new float[o.steps()];
        SplittableRandom r = new SplittableRandom(21);
        int V = model.config.vocabSize();
        try (Trainer t = new Trainer(model, backend, o)) {
            for (int s = 0; s < o.steps(); s++) {
                losses[s] = t.trainStep((inputs, targets) -> {
                    for (int i = 0; i < inputs.getSize(); i++) {
                        inputs.set(i, r.nextInt(V));
                        targets.set(i, r.nextInt(V));
                    }
                });
            }
            t.sync();
        }
        return losses;
    }

    static void assertWeightsAlike(Parameters want, Parameters got, double tolerance, String what) {
        double worst = 0;
        String where = "";
        long apart = 0;
        for (int i = 0; i < want.tensors().size(); i++) {
            Parameters.Tensor a = want.tensors().get(i);
            Parameters.Tensor b = got.tensors().get(i);
            for (int j = 0; j < a.size(); j++) {
                double d = Math.abs(a.data().get(j) - b.data().get(j));
                apart += d > 1e-6 ? 1 : 0;
                assertTrue(Double.isFinite(b.data().get(j)), what + ": " + b.name() + "[" + j + "] is " + b.data().get(j));
                if (d > worst) {
                    worst = d;
                    where = a.name() + "[" + j + "]";
                }
            }
        }
        assertTrue(worst <= tolerance, what + ": weights differ by " + worst + " at " + where);
        assertTrue(apart * 1000 < want.count(), what + ": " + apart + " of " + want.count() + " weights differ by more than 1e-6");
    }

    /** The main job's model: the shakespeare-char preset (4 layers, 4 heads, 128 wide), on a short batch. */
    @Test
    void mainJobModelTrainsAsOnTheJvm() {
        trainsAlike(GptConfig.preset("shakespeare-char"), 2, 16);
    }

    @Test
    void twelveLayerGpt2TrainsAsOnTheJvm() {
        trainsAlike(narrow(GptConfig.Style.GPT2), 2, 8);
    }

    /** GPT-1: post-LN blocks, no final norm. */
    @Test
    void twelveLayerGpt1TrainsAsOnTheJvm() {
        trainsAlike(narrow(GptConfig.Style.GPT1), 2, 8);
    }

    /** GPT-3: banded sparse attention in every other layer. */
    @Test
    void twelveLayerGpt3TrainsAsOnTheJvm() {
        trainsAlike(narrow(GptConfig.Style.GPT3), 2, 8);
    }

    /** Every gradient of a 12-layer model (what `./tgpt grads` prints) equals the JVM backend's to float rounding. */
    @Test
    void twelveLayerGradientsAsOnTheJvm() {
        GptConfig c = narrow(GptConfig.Style.GPT2);
        Gpt m = model(c, 5);
        int B = 2, T = 8;
        SplittableRandom r = new SplittableRandom(4);
        int[] inputs = r.ints(B * T, 0, c.vocabSize()).toArray();
        int[] targets = r.ints(B * T, 0, c.vocabSize()).toArray();
        Gradients.Result want = Gradients.compute(c, m.params, new JvmBackend(), inputs, targets, B, T);
        Gradients.Result got = Gradients.compute(c, m.params, TestBackends.device(), inputs, targets, B, T);
        assertEquals(want.loss(), got.loss(), 1e-5 * Math.abs(want.loss()));
        // gradients of order 1e-2..1e-5: agreement to 1e-6 of the largest gradient of the tensor, or 1e-5 relative
        for (int i = 0; i < want.grads().tensors().size(); i++) {
            Parameters.Tensor a = want.grads().tensors().get(i);
            Parameters.Tensor b = got.grads().tensors().get(i);
            double scale = 0;
            for (int j = 0; j < a.size(); j++) {
                scale = Math.max(scale, Math.abs(a.data().get(j)));
            }
            for (int j = 0; j < a.size(); j++) {
                float x = a.data().get(j);
                assertEquals(x, b.data().get(j), Math.max(1e-6 * scale, 1e-5 * Math.abs(x)), a.name() + "[" + j + "]");
            }
        }
    }

    static final CharTokenizer TEXT = CharTokenizer.of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'-()\n");

    /** A 12-layer GPT-2 of the given width with larger weights than GPT-2's init, so that greedy choices are clear-cut. */
    static Gpt sharpModel(int heads, int C, long seed) {
        Gpt m = model(new GptConfig(GptConfig.Style.GPT2, TEXT.vocabSize(), 16, 12, heads, C, 0f, 0), seed);
        for (Parameters.Tensor t : m.params.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 8);
            }
        }
        return m;
    }

    /** Greedy texts from two prompts, on the JVM backend and on the device: equal. */
    static void samplesAlike(Gpt m, String what) {
        Sampler.Options o = new Sampler.Options(12, 0f, 0, 1f, List.of(), 1);
        List<String> want;
        List<String> got;
        try (Sampler s = new Sampler(m, new JvmBackend(), 2)) {
            want = s.generate(List.of("To be", "or no"), TEXT, o);
        }
        try (Sampler s = new Sampler(m, TestBackends.device(), 2)) {
            got = s.generate(List.of("To be", "or no"), TEXT, o);
        }
        assertEquals(want, got, what);
    }

    /** Greedy sampling with the KV cache from a 12-layer model gives the JVM backend's text. */
    @Test
    void twelveLayerSamplingAsOnTheJvm() {
        samplesAlike(sharpModel(3, 45, 8), "fp32");
    }

    /** The same with the matmul weights packed as bf16 and as int8 (rows of 96: whole blocks of 32). */
    @Test
    void twelveLayerPackedSamplingAsOnTheJvm() {
        Gpt m = sharpModel(3, 96, 9);
        for (QuantMatmulOps.Format f : List.of(QuantMatmulOps.Format.BF16, QuantMatmulOps.Format.INT8)) {
            samplesAlike(m.decodingWith(f), f.toString());
        }
    }
}
