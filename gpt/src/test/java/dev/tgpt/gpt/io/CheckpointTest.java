package dev.tgpt.gpt.io;

import static dev.tgpt.gpt.io.TestModels.GPT2_VOCAB;
import static dev.tgpt.gpt.io.TestModels.assertSameParameters;
import static dev.tgpt.gpt.io.TestModels.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import dev.tgpt.gpt.data.Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class CheckpointTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final GptConfig SMALL = new GptConfig(GptConfig.Style.GPT3, 11, 16, 2, 2, 8, 0.1f, 4);
    private static final Tokenizer CHARS = CharTokenizer.of("hello world\n");

    @Test
    void roundTripsModelTokenizerAndTrainingState(@TempDir Path root) throws Exception {
        Path dir = root.resolve("run").resolve("checkpoint");
        Parameters p = random(SMALL, 1);
        TrainingState state = new TrainingState(1234, random(SMALL, 2), random(SMALL, 3), 0x9E3779B97F4A7C15L, 77);
        Checkpoint.save(dir, SMALL, CHARS, p, state);
        assertEquals(List.of("config.json", "model.safetensors", "optimizer.safetensors", "trainer.json"), list(dir));
        assertEquals(List.of("checkpoint"), list(dir.getParent()), "no temporary or old directory left");

        Checkpoint c = Checkpoint.load(dir);
        assertEquals(SMALL, c.config());
        assertEquals(CHARS.describe(), c.tokenizer().describe());
        assertSameParameters(p, c.parameters());
        assertEquals(1234, c.training().step());
        assertEquals(0x9E3779B97F4A7C15L, c.training().dataRng());
        assertEquals(77, c.training().dropoutSeed());
        assertSameParameters(state.m(), c.training().m());
        assertSameParameters(state.v(), c.training().v());
    }

    @Test
    void gpt1HasNoFinalNormAndRoundTrips(@TempDir Path root) {
        GptConfig gpt1 = new GptConfig(GptConfig.Style.GPT1, 11, 16, 1, 2, 8, 0f, 0);
        Parameters p = random(gpt1, 4);
        Checkpoint.save(root.resolve("c"), gpt1, CHARS, p, null);
        Checkpoint c = Checkpoint.load(root.resolve("c"));
        assertEquals(gpt1, c.config());
        assertSameParameters(p, c.parameters());
        assertNull(c.training());
    }

    @Test
    void writesWhatHuggingFaceReads(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Parameters p = random(GPT2_VOCAB, 5);
        Checkpoint.save(dir, GPT2_VOCAB, new Gpt2Tokenizer(), p, null);
        assertEquals(List.of("config.json", "model.safetensors"), list(dir));

        JsonNode config = JSON.readTree(dir.resolve("config.json").toFile());
        assertEquals("gpt2", config.get("model_type").asText());
        assertEquals("GPT2LMHeadModel", config.get("architectures").get(0).asText());
        assertEquals(50257, config.get("vocab_size").asInt());
        assertEquals(16, config.get("n_positions").asInt());
        assertEquals(16, config.get("n_ctx").asInt());
        assertEquals(8, config.get("n_embd").asInt());
        assertEquals(2, config.get("n_layer").asInt());
        assertEquals(2, config.get("n_head").asInt());
        assertTrue(config.get("n_inner").isNull());
        assertEquals("gelu_new", config.get("activation_function").asText());
        assertEquals(0.1, config.get("resid_pdrop").asDouble(), 1e-7);
        assertEquals(0.1, config.get("embd_pdrop").asDouble(), 1e-7);
        assertEquals(1e-5, config.get("layer_norm_epsilon").asDouble());
        assertEquals(0.02, config.get("initializer_range").asDouble());
        assertTrue(config.get("tie_word_embeddings").asBoolean());
        assertEquals(50256, config.get("bos_token_id").asInt());
        assertEquals(50256, config.get("eos_token_id").asInt());
        assertEquals("gpt2", config.get("tgpt_style").asText());
        assertEquals("gpt2", config.get("tgpt_tokenizer").get("type").asText());

        try (Safetensors st = Safetensors.open(dir.resolve("model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(p.tensors().size(), st.tensors().size(), "one tensor per parameter, no lm_head.weight");
            assertArrayEquals(new long[] { 50257, 8 }, st.tensor("transformer.wte.weight").shape());
            // Conv1D weights are stored [in, out]: c_attn is [C, 3C], mlp.c_proj [4C, C].
            assertArrayEquals(new long[] { 8, 24 }, st.tensor("transformer.h.1.attn.c_attn.weight").shape());
            assertArrayEquals(new long[] { 32, 8 }, st.tensor("transformer.h.0.mlp.c_proj.weight").shape());
            FloatArray ours = p.layers[1].qkvw();
            FloatArray hf = st.floats("transformer.h.1.attn.c_attn.weight");
            int out = 17, in = 5;
            assertEquals(ours.get(out * 8 + in), hf.get(in * 24 + out));
        }
    }

    @Test
    void aNewCheckpointReplacesThePreviousOne(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Checkpoint.save(dir, SMALL, CHARS, random(SMALL, 1), new TrainingState(1, random(SMALL, 2), random(SMALL, 3), 4, 5));
        Parameters second = random(SMALL, 6);
        Checkpoint.save(dir, SMALL, CHARS, second, null);
        assertEquals(List.of("c"), list(root));
        assertEquals(List.of("config.json", "model.safetensors"), list(dir), "the old training state went with the old checkpoint");
        assertSameParameters(second, Checkpoint.load(dir).parameters());
    }

    @Test
    void aFailedSaveLeavesThePreviousCheckpoint(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Parameters first = random(SMALL, 1);
        Checkpoint.save(dir, SMALL, CHARS, first, null);
        // Moments of a smaller model: the save fails after it has written the config and the weights.
        GptConfig oneLayer = new GptConfig(GptConfig.Style.GPT3, 11, 16, 1, 2, 8, 0.1f, 4);
        TrainingState wrong = new TrainingState(1, random(oneLayer, 2), random(oneLayer, 3), 0, 0);
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(dir, SMALL, CHARS, random(SMALL, 7), wrong));
        assertEquals(List.of("c"), list(root), "no temporary directory left");
        assertSameParameters(first, Checkpoint.load(dir).parameters());
    }

    @Test
    void replacesNothingButACheckpoint(@TempDir Path root) throws Exception {
        Path dir = Files.createDirectory(root.resolve("work"));
        Files.writeString(dir.resolve("notes.txt"), "mine");
        UserError e = assertThrows(UserError.class, () -> Checkpoint.save(dir, SMALL, CHARS, random(SMALL, 1), null));
        assertTrue(e.getMessage().contains("holds notes.txt") && e.getMessage().contains("not a tgpt checkpoint"), e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));

        Path file = Files.writeString(root.resolve("file"), "mine");
        e = assertThrows(UserError.class, () -> Checkpoint.save(file, SMALL, CHARS, random(SMALL, 1), null));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        assertEquals(List.of("file", "work"), list(root));
    }

    @Test
    void aSwapCutShortBetweenItsRenamesIsRecovered(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Parameters first = random(SMALL, 1);
        Checkpoint.save(dir, SMALL, CHARS, first, null);
        // As if the process died after moving the previous checkpoint aside and before moving the new one in.
        Files.move(dir, root.resolve("c.old"));
        assertSameParameters(first, Checkpoint.load(dir).parameters());
        Parameters second = random(SMALL, 2);
        Checkpoint.save(dir, SMALL, CHARS, second, null);
        assertEquals(List.of("c"), list(root));
        assertSameParameters(second, Checkpoint.load(dir).parameters());
    }

    @Test
    void badConfigsAreUserErrorsNamingTheFileAndProblem(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Checkpoint.save(dir, SMALL, CHARS, random(SMALL, 1), null);
        Path config = dir.resolve("config.json");
        String good = Files.readString(config);

        assertLoadFails(root.resolve("missing"), "no such checkpoint directory");
        Files.writeString(config, "{\n  \"n_embd\": 8,\n  oops\n}");
        assertLoadFails(dir, config + " is not valid JSON", "line 3");
        Files.writeString(config, "[1, 2]");
        assertLoadFails(dir, "not a JSON object");
        Files.delete(config);
        assertLoadFails(dir, config + ": no such file");

        assertLoadFails(dir, good, j -> j.remove("n_embd"), "\"n_embd\" is missing");
        assertLoadFails(dir, good, j -> j.put("n_layer", "two"), config + ": \"n_layer\" must be an integer, not \"two\"");
        assertLoadFails(dir, good, j -> j.put("model_type", "llama"), "model_type is \"llama\"");
        assertLoadFails(dir, good, j -> j.put("tgpt_style", "gpt4"), "tgpt_style \"gpt4\"");
        assertLoadFails(dir, good, j -> j.put("resid_pdrop", 1.5), "dropout must be in [0, 1)");
        assertLoadFails(dir, good, j -> j.put("n_head", 3), "multiple of heads");
        assertLoadFails(dir, good, j -> j.put("n_inner", 64), "n_inner 64 is not supported");
        assertLoadFails(dir, good, j -> j.put("activation_function", "relu"), "activation_function \"relu\"");
        assertLoadFails(dir, good, j -> j.put("layer_norm_epsilon", 1e-6), "layer_norm_epsilon");
        assertLoadFails(dir, good, j -> j.putObject("tgpt_tokenizer").put("type", "bpe"), "unknown tokenizer type 'bpe'");
        assertLoadFails(dir, good, j -> j.put("vocab_size", 5), "the tokenizer has 9 tokens but vocab_size is 5");
        // no tokenizer and not GPT-2's vocabulary: a model of token ids only
        ObjectNode idsOnly = (ObjectNode) JSON.readTree(good);
        idsOnly.remove("tgpt_tokenizer");
        Files.writeString(dir.resolve("config.json"), idsOnly.toPrettyString());
        assertNull(Checkpoint.load(dir).tokenizer());
        Files.writeString(dir.resolve("config.json"), good);
    }

    @Test
    void weightsThatDoNotMatchTheConfigAreUserErrorsNamingTheTensor(@TempDir Path root) throws Exception {
        Path dir = root.resolve("c");
        Checkpoint.save(dir, SMALL, CHARS, random(SMALL, 1), new TrainingState(1, random(SMALL, 2), random(SMALL, 3), 4, 5));
        String good = Files.readString(dir.resolve("config.json"));
        Path model = dir.resolve("model.safetensors");

        assertLoadFails(dir, good, j -> j.put("vocab_size", 12),
                model + ": config does not match the weights: tensor transformer.wte.weight has shape [11, 8], expected [12, 8]");
        assertLoadFails(dir, good, j -> j.put("n_embd", 16), "tensor transformer.wte.weight has shape [11, 8], expected [11, 16]");
        assertLoadFails(dir, good, j -> j.put("n_layer", 3), "tensor transformer.h.2.ln_1.weight [8] is missing");
        assertLoadFails(dir, good, j -> j.put("n_layer", 1), "extra tensor transformer.h.1.");
        assertLoadFails(dir, good, j -> j.put("tgpt_style", "gpt1"), "extra tensor transformer.ln_f.");

        byte[] bytes = Files.readAllBytes(model);
        Files.write(model, Arrays.copyOf(bytes, bytes.length - 10));
        assertLoadFails(dir, model + " ", "truncated");
        Files.write(model, bytes);

        Path trainer = dir.resolve("trainer.json");
        String state = Files.readString(trainer);
        Files.writeString(trainer, "{\"step\": 1, \"data_rng\": 2}");
        assertLoadFails(dir, trainer + ": \"dropout_seed\" must be an integer, and is missing");
        Files.delete(trainer);
        assertLoadFails(dir, "has optimizer.safetensors but no trainer.json");
        Files.writeString(trainer, state);

        Path optimizer = dir.resolve("optimizer.safetensors");
        rewriteTensors(optimizer, t -> t.remove("v.transformer.wpe.weight"));
        assertLoadFails(dir, optimizer + ": config does not match the weights: tensor v.transformer.wpe.weight [16, 8] is missing");
        Files.delete(model);
        assertLoadFails(dir, dir + " has no model.safetensors");
    }

    @Test
    void importsAHuggingFaceGpt2Directory(@TempDir Path root) throws Exception {
        Path dir = root.resolve("gpt2");
        Parameters p = random(GPT2_VOCAB, 8);
        Checkpoint.save(dir, GPT2_VOCAB, new Gpt2Tokenizer(), p, null);
        // As save_pretrained writes it: no tgpt_ keys, keys of its own, the tied lm_head and the attention masks.
        ObjectNode hf = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        hf.remove(List.of("tgpt_style", "tgpt_band", "tgpt_tokenizer", "n_ctx"));
        hf.put("transformers_version", "4.44.0").put("torch_dtype", "float32").put("summary_type", "cls_index").put("use_cache", true);
        hf.putObject("task_specific_params").putObject("text-generation").put("do_sample", true);
        hf.put("resid_pdrop", 0.05);
        Files.writeString(dir.resolve("config.json"), hf.toPrettyString());
        rewriteTensors(dir.resolve("model.safetensors"), t -> {
            t.put("lm_head.weight", t.get("transformer.wte.weight"));
            t.put("transformer.h.0.attn.bias", new Safetensors.Entry(new long[] { 1, 1, 16, 16 }, new FloatArray(256)));
            t.put("transformer.h.1.attn.masked_bias", new Safetensors.Entry(new long[0], new FloatArray(1)));
        });
        Checkpoint c = Checkpoint.load(dir);
        assertEquals(GPT2_VOCAB.withDropout(0.05f), c.config());
        assertInstanceOf(Gpt2Tokenizer.class, c.tokenizer());
        assertSameParameters(p, c.parameters());

        // The hub's original GPT-2 names GPT2Model's tensors, without "transformer.".
        rewriteTensors(dir.resolve("model.safetensors"), t -> {
            for (String name : List.copyOf(t.keySet())) {
                if (name.startsWith("transformer.")) {
                    t.put(name.substring("transformer.".length()), t.remove(name));
                }
            }
        });
        assertSameParameters(p, Checkpoint.load(dir).parameters());

        rewriteTensors(dir.resolve("model.safetensors"), t -> t.put("lm_head.weight", new Safetensors.Entry(new long[] { 50257, 8 },
                new FloatArray(50257 * 8))));
        assertLoadFails(dir, "lm_head.weight differs from transformer.wte.weight");
    }

    private static void assertLoadFails(Path dir, String original, Consumer<ObjectNode> edit, String... problem) throws Exception {
        ObjectNode j = (ObjectNode) JSON.readTree(original);
        edit.accept(j);
        Files.writeString(dir.resolve("config.json"), j.toPrettyString());
        assertLoadFails(dir, problem);
        Files.writeString(dir.resolve("config.json"), original);
    }

    private static void assertLoadFails(Path dir, String... problem) {
        UserError e = assertThrows(UserError.class, () -> Checkpoint.load(dir));
        for (String s : problem) {
            assertTrue(e.getMessage().contains(s), e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(e.getMessage().indexOf(dir.toString()), e.getMessage().lastIndexOf(dir.toString()), "names the path once: " + e.getMessage());
    }

    /** Reads every tensor of a safetensors file, lets {@code edit} change the map, writes it back. */
    private static void rewriteTensors(Path file, Consumer<Map<String, Safetensors.Entry>> edit) throws Exception {
        Map<String, Safetensors.Entry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata;
        try (Safetensors st = Safetensors.open(file)) {
            for (Safetensors.Tensor t : st.tensors().values()) {
                tensors.put(t.name(), new Safetensors.Entry(t.shape(), st.floats(t.name())));
            }
            metadata = st.metadata();
        }
        edit.accept(tensors);
        Safetensors.write(file, tensors, metadata);
    }

    private static List<String> list(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }
}
