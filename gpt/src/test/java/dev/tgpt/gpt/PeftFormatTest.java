package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.io.Checkpoint;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * tgpt's adapters against PEFT's own (gpt/src/test/resources/peft-lora/make_fixture.py: PEFT 0.21.0 and transformers
 * wrap the GPT-2 parity model with get_peft_model, target_modules c_attn, c_proj, c_fc, r 4, α 12, and save the adapter
 * with save_pretrained). An adapter PEFT wrote, read by tgpt onto the same base, gives PEFT's logits; tgpt's save of it
 * has PEFT's file names, tensor names, shapes, values and settings (and PEFT loads it: make_fixture.py --load, run by
 * hand where PEFT is installed, on gpt/target/peft-lora/adapter, which this test writes).
 */
class PeftFormatTest {

    static final Path DIR = Path.of("src/test/resources/peft-lora");
    static final Path PARITY = Gpt2ParityTest.DIR;

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /**
     * Logits within 1e-4 absolute, as the parity test's: PEFT computed in float32 (the adapter moves these logits by up
     * to 2, so a transposed or misnamed tensor, or a wrong scale, is far outside it).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void peftsAdapterGivesPeftsLogits(Backend backend) {
        Checkpoint base = Checkpoint.load(PARITY.resolve("model"));
        Lora lora = Lora.load(DIR.resolve("adapter"), base.config());
        assertEquals(new Lora.Settings(4, 12f, java.util.EnumSet.allOf(Lora.Target.class)), lora.settings, "c_proj names both projections");
        Gpt2ParityTest.Batch b = Gpt2ParityTest.Batch.load();
        FloatArray logits = Gradients.compute(base.config(), lora.mergedInto(base.parameters()), backend, b.inputs(), b.targets(), b.B(), b.T()).logits();
        try (Safetensors want = Safetensors.open(DIR.resolve("expected.safetensors"))) {
            FloatArray w = want.floats("logits");
            assertEquals(w.getSize(), logits.getSize());
            double worst = 0;
            for (int i = 0; i < w.getSize(); i++) {
                worst = Math.max(worst, Math.abs(w.get(i) - logits.get(i)));
            }
            assertTrue(worst < 1e-4, "logits differ from PEFT's by " + worst);
        }
    }

    @Test
    void tgptSavesWhatPeftSaves() throws Exception {
        Checkpoint base = Checkpoint.load(PARITY.resolve("model"));
        Lora lora = Lora.load(DIR.resolve("adapter"), base.config());
        Path out = Path.of("target/peft-lora/adapter");
        lora.save(out);
        try (Safetensors peft = Safetensors.open(DIR.resolve("adapter/adapter_model.safetensors"));
                Safetensors ours = Safetensors.open(out.resolve("adapter_model.safetensors"))) {
            assertEquals(peft.tensors().keySet(), ours.tensors().keySet());
            for (String name : peft.tensors().keySet()) {
                assertArrayEquals(peft.tensor(name).shape(), ours.tensor(name).shape(), name);
                assertEquals(peft.tensor(name).dtype(), ours.tensor(name).dtype(), name);
                assertArrayEquals(peft.floats(name).toHeapArray(), ours.floats(name).toHeapArray(), name);
            }
            assertEquals(peft.metadata(), ours.metadata());
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode peft = json.readTree(DIR.resolve("adapter/adapter_config.json").toFile());
        JsonNode ours = json.readTree(out.resolve("adapter_config.json").toFile());
        for (String field : new String[] { "peft_type", "task_type", "r", "bias", "fan_in_fan_out" }) {
            assertEquals(peft.get(field), ours.get(field), field);
        }
        for (String field : new String[] { "lora_alpha", "lora_dropout" }) {
            assertEquals(peft.get(field).asDouble(), ours.get(field).asDouble(), 0, field);
        }
        // target_modules: PEFT keeps the names its user gave (c_attn, c_proj, c_fc), tgpt the modules' paths; both select
        // the same four layers
        assertEquals(Lora.load(DIR.resolve("adapter"), base.config()).settings, Lora.load(out, base.config()).settings);
    }

    @Test
    void peftOptionsThatChangeTheComputationAreRefused() throws Exception {
        Checkpoint base = Checkpoint.load(PARITY.resolve("model"));
        ObjectMapper json = new ObjectMapper();
        Path dir = Path.of("target/peft-lora/variants");
        Files.createDirectories(dir);
        Files.copy(DIR.resolve("adapter/adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String[][] variants = { { "use_dora", "true" }, { "use_rslora", "true" }, { "rank_pattern", "{\"c_attn\": 8}" },
                { "layers_to_transform", "[0]" }, { "modules_to_save", "[\"lm_head\"]" }, { "bias", "\"all\"" } };
        for (String[] v : variants) {
            ObjectNode c = (ObjectNode) json.readTree(DIR.resolve("adapter/adapter_config.json").toFile());
            c.set(v[0], json.readTree(v[1]));
            Files.writeString(dir.resolve("adapter_config.json"), c.toString());
            UserError e = assertThrows(UserError.class, () -> Lora.load(dir, base.config()), v[0]);
            assertTrue(e.getMessage().contains(v[0]) && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
