package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.io.Safetensors;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** LoRA adapters on a GPT: their gradients, the frozen weights, PEFT's format, the merge. */
class LoraTest {

    @TempDir
    Path dir;

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /** 4 layers: on a TornadoVM device the step is cut into several task graphs. */
    static final GptConfig CONFIG = new GptConfig(GptConfig.Style.GPT2, 11, 8, 4, 2, 16, 0f, 0);
    static final Lora.Settings SETTINGS = new Lora.Settings(3, 5f, EnumSet.allOf(Lora.Target.class));

    static Parameters base() {
        Parameters p = new Parameters(CONFIG);
        p.initialise(1);
        return p;
    }

    /** Adapters with B random too (a fresh one has B = 0, where A gets no gradient). */
    static Lora adapters(long seed) {
        Lora lora = new Lora(CONFIG, SETTINGS).initialise(seed);
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (Parameters.Tensor t : lora.tensors()) {
            if (t.name().endsWith("lora_B.weight")) {
                for (int i = 0; i < t.size(); i++) {
                    t.data().set(i, (float) (0.2 * (2 * r.nextDouble() - 1)));
                }
            }
        }
        return lora;
    }

    static int[][] batch(int B, int T) {
        SplittableRandom r = new SplittableRandom(7);
        int[] in = new int[B * T];
        int[] out = new int[B * T];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(CONFIG.vocabSize());
            out[i] = i % 5 == 4 ? -1 : r.nextInt(CONFIG.vocabSize());
        }
        return new int[][] { in, out };
    }

    /**
     * For y = x·(W + s·B·A)ᵀ the adapters' gradients follow from the merged weight's, G = dL/dW: dL/dB = s·G·Aᵀ and
     * dL/dA = s·Bᵀ·G. G comes from the model's own (independently tested) full backward on the merged weights; the
     * adapters' from the adapted model's backward, which never computes G. Also the two forwards give the same loss.
     * Tolerance 1e-4 relative: float32 sums of the same products in other orders (B·T positions, then r or out terms).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void adapterGradientsFollowFromTheMergedWeightsGradient(Backend backend) {
        int B = 2, T = 8;
        int[][] data = batch(B, T);
        Parameters base = base();
        Lora lora = adapters(3);
        Gradients.Result merged = Gradients.compute(CONFIG, lora.mergedInto(base), backend, data[0], data[1], B, T);

        Gpt model = new Gpt(CONFIG, base).withAdapters(lora);
        Lora grads = new Lora(CONFIG, SETTINGS);
        Gpt.Activations a = model.activations(B, T);
        int counted = 0;
        for (int i = 0; i < B * T; i++) {
            a.tokens.set(i, data[0][i]);
            a.targets.set(i, data[1][i]);
            counted += data[1][i] >= 0 ? 1 : 0;
        }
        a.dlosses.init(1f / counted);
        List<Object> state = new ArrayList<>(model.weightArrays());
        state.add(grads.all());
        state.addAll(a.buffers());
        Program p = new Program("lora").state(state.toArray()).inputs(a.tokens, a.targets, a.dlosses).outputs(a.losses);
        model.forward(a, true).forEach(p::add);
        model.backward(a, grads, List.of()).forEach(p::add);
        try (Session s = backend.open(p)) {
            s.run(p);
            s.read(grads.all());
        }
        double loss = 0;
        for (int i = 0; i < B * T; i++) {
            loss += data[1][i] >= 0 ? a.losses.get(i) : 0;
        }
        assertEquals(merged.loss(), loss / counted, 1e-5);

        float s = SETTINGS.scale();
        int r = SETTINGS.rank();
        for (int l = 0; l < CONFIG.layers(); l++) {
            Parameters.Layer g = merged.grads().layers[l];
            FloatArray[] G = { g.qkvw(), g.attprojw(), g.fcw(), g.fcprojw() };
            for (Lora.Target t : Lora.Target.values()) {
                Lora.Pair w = lora.pair(l, t);
                Lora.Pair d = grads.pair(l, t);
                int in = w.a().getSize() / r;
                int out = w.b().getSize() / r;
                double[] wantA = new double[r * in];
                double[] wantB = new double[out * r];
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        double gi = G[t.ordinal()].get(o * in + i);
                        for (int k = 0; k < r; k++) {
                            wantB[o * r + k] += s * gi * w.a().get(k * in + i);
                            wantA[k * in + i] += s * w.b().get(o * r + k) * gi;
                        }
                    }
                }
                assertClose(d.a(), wantA, "layer " + l + " " + t + " A");
                assertClose(d.b(), wantB, "layer " + l + " " + t + " B");
            }
        }
    }

    static void assertClose(FloatArray got, double[] want, String what) {
        double diff = 0;
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(got.get(i) - want[i]));
            max = Math.max(max, Math.abs(want[i]));
        }
        assertTrue(max > 0 && diff / max < 1e-4, what + ": error " + diff / max + " of " + max);
    }

    /**
     * Training with LoRA moves the adapters and nothing else: the weights are bit for bit what they were, the
     * optimizer holds the adapters' moments alone, and a fresh adapter (B = 0) starts as the base (the first loss is
     * the base's, exactly).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void trainsTheAdaptersAloneFromTheBase(Backend backend) {
        Parameters base = base();
        FloatArray before = new FloatArray(base.all().getSize());
        before.getSegment().copyFrom(base.all().getSegment());
        Trainer.Options o = Trainer.Options.defaults().batch(2).context(8).lr(1e-2f).lora(SETTINGS);
        Gpt model = new Gpt(CONFIG, base).trainedAs(o);
        int[][] data = batch(2, 8);
        Trainer.BatchSource rows = (inputs, targets) -> {
            for (int i = 0; i < inputs.getSize(); i++) {
                inputs.set(i, data[0][i]);
                targets.set(i, data[1][i]);
            }
        };
        float first;
        float last;
        float baseLoss = Gradients.compute(CONFIG, base, backend, data[0], data[1], 2, 8).loss();
        try (Trainer t = new Trainer(model, backend, o)) {
            assertEquals(8L * model.lora.all().getSize(), t.optimizerBytes());
            first = t.trainStep(rows);
            t.trainStep(rows);
            last = t.trainStep(rows);
            t.sync();
        }
        assertEquals(baseLoss, first, 1e-6f);
        assertTrue(last < first, "loss " + first + " → " + last);
        for (int i = 0; i < before.getSize(); i++) {
            assertEquals(before.get(i), base.all().get(i), 0f, "weight " + i);
        }
        boolean moved = false;
        for (Parameters.Tensor t : model.lora.tensors()) {
            for (int i = 0; i < t.size() && !moved; i++) {
                moved = t.name().endsWith("lora_B.weight") && t.data().get(i) != 0f;
            }
        }
        assertTrue(moved, "the adapters' B moved from 0");
    }

    /** PEFT's names and shapes for GPT-2 (lora_A [r, in], lora_B [out, r]), its config, and a load that gives the same adapter. */
    @Test
    void savesPeftsFormatAndLoadsItBack() throws Exception {
        Lora lora = adapters(5);
        lora.save(dir);
        JsonNode c = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("LORA", c.get("peft_type").asText());
        assertEquals(3, c.get("r").asInt());
        assertEquals(5.0, c.get("lora_alpha").asDouble());
        assertEquals(true, c.get("fan_in_fan_out").asBoolean());
        assertEquals(List.of("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"),
                List.of(c.get("target_modules").get(0).asText(), c.get("target_modules").get(1).asText(), c.get("target_modules").get(2).asText(),
                        c.get("target_modules").get(3).asText()));
        int C = CONFIG.channels();
        Map<String, long[]> want = Map.of("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", new long[] { 3, C },
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", new long[] { 3 * C, 3 },
                "base_model.model.transformer.h.3.attn.c_proj.lora_B.weight", new long[] { C, 3 },
                "base_model.model.transformer.h.2.mlp.c_fc.lora_B.weight", new long[] { 4 * C, 3 },
                "base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight", new long[] { 3, 4 * C });
        try (Safetensors st = Safetensors.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(CONFIG.layers() * 4 * 2, st.tensors().size());
            want.forEach((name, shape) -> assertEquals(java.util.Arrays.toString(shape), java.util.Arrays.toString(st.tensors().get(name).shape()), name));
        }
        Lora back = Lora.load(dir, CONFIG);
        assertEquals(lora.settings, back.settings);
        for (int i = 0; i < lora.all().getSize(); i++) {
            assertEquals(lora.all().get(i), back.all().get(i), 0f);
        }
        // PEFT's short names match as suffixes: "c_proj" is both projections
        Files.writeString(dir.resolve("adapter_config.json"), Files.readString(dir.resolve("adapter_config.json")).replaceAll(
                "\\[[^\\]]*\\]", "[\"c_attn\", \"c_proj\", \"c_fc\"]"));
        assertEquals(EnumSet.allOf(Lora.Target.class), Lora.load(dir, CONFIG).settings.targets());
        Parameters merged = back.mergedInto(base());
        assertNotEquals(base().layers[0].qkvw().get(0), merged.layers[0].qkvw().get(0));
        assertTrue(Files.exists(dir.resolve("adapter_model.safetensors")));
    }
}
