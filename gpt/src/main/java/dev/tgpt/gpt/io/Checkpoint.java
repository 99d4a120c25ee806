package dev.tgpt.gpt.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.kernels.LayerNorm;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A model on disk, as a directory that Hugging Face's {@code GPT2LMHeadModel.from_pretrained} reads: {@code config.json}
 * (GPT2Config's keys, plus tgpt's own, prefixed {@code tgpt_}) and {@code model.safetensors} (HF's names and layouts;
 * no lm_head.weight, since it is tied to wte). A training run adds {@code optimizer.safetensors} (AdamW's moments as
 * {@code m.<name>} and {@code v.<name>}, in tgpt's [out, in] layout) and {@code trainer.json}. The same loader reads
 * a directory written by HF's save_pretrained, and llm.c's model file ({@link LlmcCheckpoint}).
 *
 * <p>GPT-1 and GPT-3 styles are saved the same way, but HF would run them as GPT-2 (pre-LN, dense attention); only
 * tgpt reads {@code tgpt_style} back.
 *
 * @param tokenizer null for a model of token ids only (a Hugging Face directory with neither GPT-2's vocabulary nor a
 *                  tgpt_tokenizer): it computes, but cannot read or write text
 * @param training  null when the checkpoint holds only a model
 */
public record Checkpoint(GptConfig config, Tokenizer tokenizer, Parameters parameters, TrainingState training) {

    static final String CONFIG = "config.json";
    static final String MODEL = "model.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String TRAINER = "trainer.json";
    private static final Set<String> FILES = Set.of(CONFIG, MODEL, OPTIMIZER, TRAINER);
    private static final String PREFIX = "transformer.";
    // Buffers, not parameters: the causal masks that older GPT-2 checkpoints (the hub's "gpt2") carry.
    private static final Pattern ATTENTION_MASK = Pattern.compile("(transformer\\.)?h\\.\\d+\\.attn\\.(masked_)?bias");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes a checkpoint directory atomically: everything goes into a temporary sibling directory, which then takes
     * the place of {@code dir}; the previous checkpoint is moved aside to {@code <dir>.old} until the new one is in
     * place, so a failure at any point leaves one complete checkpoint. {@code dir}, if it exists, must hold nothing
     * but a checkpoint's files, since it is replaced.
     *
     * @param training null to save only the model
     */
    public static void save(Path dir, GptConfig config, Tokenizer tokenizer, Parameters parameters, TrainingState training) {
        // tokenizer may be null: the checkpoint then names none, as the directory it came from
        if (!config.withDropout(parameters.config.dropout()).equals(parameters.config)) {
            throw new IllegalArgumentException("parameters of " + parameters.config + " saved with " + config);
        }
        if (tokenizer != null && tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException("a tokenizer of " + tokenizer.vocabSize() + " tokens for a model of " + config.vocabSize());
        }
        Path target = dir.toAbsolutePath().normalize();
        Path old = sibling(target, ".old");
        requireReplaceable(target);
        requireReplaceable(old);
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp-");
            writeJson(tmp.resolve(CONFIG), configJson(config, tokenizer));
            Safetensors.write(tmp.resolve(MODEL), hfTensors(parameters, ""), Map.of("format", "pt"));
            if (training != null) {
                Map<String, Safetensors.Entry> moments = new LinkedHashMap<>();
                for (Parameters.Tensor t : parameters.tensors()) {
                    long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
                    moments.put("m." + t.name(), new Safetensors.Entry(shape, training.m().tensor(t.name()).data()));
                    moments.put("v." + t.name(), new Safetensors.Entry(shape, training.v().tensor(t.name()).data()));
                }
                Safetensors.write(tmp.resolve(OPTIMIZER), moments, Map.of());
                ObjectNode trainer = JSON.createObjectNode();
                trainer.put("step", training.step());
                trainer.put("data_rng", training.dataRng());
                trainer.put("dropout_seed", training.dropoutSeed());
                writeJson(tmp.resolve(TRAINER), trainer);
            }
            // A swap cut short between its two renames left the previous checkpoint at .old: put it back first.
            if (!Files.exists(target) && Files.exists(old)) {
                move(old, target);
            }
            deleteCheckpoint(old);
            if (Files.exists(target)) {
                move(target, old);
            }
            move(tmp, target);
        } catch (IOException | RuntimeException e) {
            try {
                if (tmp != null && Files.exists(tmp)) {
                    try (Stream<Path> files = Files.list(tmp)) {
                        for (Path f : files.toList()) {
                            Files.delete(f);
                        }
                    }
                    Files.delete(tmp);
                }
                if (!Files.exists(target) && Files.exists(old)) {
                    move(old, target);
                }
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new UserError("cannot save the checkpoint to " + target + " (" + e + ")", e);
        }
        try {
            deleteCheckpoint(old);
        } catch (IOException e) {
            throw new UserError("saved " + target + ", but cannot delete the previous checkpoint at " + old + " (" + e + ")", e);
        }
    }

    /**
     * Reads a checkpoint directory (tgpt's or one from HF's save_pretrained), or llm.c's model file. A directory that an
     * interrupted save left at {@code <dir>.old} is read from there.
     */
    public static Checkpoint load(Path path) {
        if (Files.isRegularFile(path)) {
            return LlmcCheckpoint.read(path);
        }
        Path dir = directory(path);
        Path configFile = dir.resolve(CONFIG);
        JsonNode json = readJson(configFile);
        GptConfig config = readConfig(configFile, json);
        Tokenizer tokenizer = readTokenizer(configFile, json, config);
        Path modelFile = dir.resolve(MODEL);
        if (!Files.exists(modelFile)) {
            throw new UserError(dir + " has no " + MODEL
                    + (Files.exists(dir.resolve(MODEL + ".index.json")) ? ": sharded checkpoints are not supported" : ""));
        }
        Parameters parameters = new Parameters(config);
        readModel(modelFile, parameters);
        return new Checkpoint(config, tokenizer, parameters, readTraining(dir, config));
    }

    /**
     * The model's configuration alone, as {@link #load} would read it, with no weights read: what a memory plan needs;
     * its tokenizer, and whether a training state (AdamW's moments) comes with it.
     */
    public static Header header(Path path) {
        if (Files.isRegularFile(path)) {
            return new Header(LlmcCheckpoint.config(path), new Gpt2Tokenizer(), false);
        }
        Path dir = directory(path);
        Path configFile = dir.resolve(CONFIG);
        JsonNode json = readJson(configFile);
        GptConfig config = readConfig(configFile, json);
        return new Header(config, readTokenizer(configFile, json, config), Files.exists(dir.resolve(OPTIMIZER)));
    }

    /** A checkpoint's configuration and tokenizer (null: none named), and whether it holds a training state. */
    public record Header(GptConfig config, Tokenizer tokenizer, boolean training) {
        /** Bytes the checkpoint's tensors take once read: weights, and AdamW's two moments with a training state. */
        public long bytes() {
            return 4 * Parameters.slabFloats(config) * (training ? 3 : 1);
        }
    }

    /** The directory a checkpoint is read from: path, or the {@code .old} an interrupted save left. */
    private static Path directory(Path path) {
        if (Files.isDirectory(path)) {
            return path;
        }
        Path old = sibling(path.toAbsolutePath().normalize(), ".old");
        if (!Files.isRegularFile(old.resolve(CONFIG))) {
            throw new UserError(path + ": no such checkpoint directory or llm.c model file");
        }
        return old;
    }

    private static ObjectNode configJson(GptConfig c, Tokenizer tokenizer) {
        ObjectNode j = JSON.createObjectNode();
        j.put("model_type", "gpt2");
        j.putArray("architectures").add("GPT2LMHeadModel");
        j.put("vocab_size", c.vocabSize());
        j.put("n_positions", c.context());
        j.put("n_ctx", c.context());
        j.put("n_embd", c.channels());
        j.put("n_layer", c.layers());
        j.put("n_head", c.heads());
        j.putNull("n_inner");
        j.put("activation_function", "gelu_new");
        j.put("resid_pdrop", c.dropout());
        j.put("embd_pdrop", c.dropout());
        // tgpt drops nothing inside attention.
        j.put("attn_pdrop", 0.0);
        j.put("layer_norm_epsilon", 1e-5);
        j.put("initializer_range", 0.02);
        j.put("tie_word_embeddings", true);
        if (tokenizer != null && tokenizer.endOfText() >= 0) {
            j.put("bos_token_id", tokenizer.endOfText());
            j.put("eos_token_id", tokenizer.endOfText());
        }
        j.put("tgpt_style", c.style().name().toLowerCase(Locale.ROOT));
        j.put("tgpt_band", c.band());
        if (tokenizer != null) {
            j.set("tgpt_tokenizer", tokenizer.describe());
        }
        return j;
    }

    private static GptConfig readConfig(Path file, JsonNode j) {
        String type = j.path("model_type").asText("gpt2");
        if (!type.equals("gpt2")) {
            throw new UserError(file + ": model_type is \"" + type + "\"; tgpt reads only GPT-2 models (\"gpt2\")");
        }
        int channels = integer(file, j, "n_embd");
        JsonNode inner = j.path("n_inner");
        if (!inner.isMissingNode() && !inner.isNull() && inner.asInt() != 4 * channels) {
            throw new UserError(file + ": n_inner " + inner + " is not supported; tgpt's MLP is 4 × n_embd = " + 4 * channels + " wide");
        }
        String activation = j.path("activation_function").asText("gelu_new");
        if (!activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
            throw new UserError(file + ": activation_function \"" + activation + "\" is not supported; tgpt uses GPT-2's tanh GELU (gelu_new)");
        }
        double epsilon = j.path("layer_norm_epsilon").asDouble(1e-5);
        if ((float) epsilon != LayerNorm.EPS) {
            throw new UserError(file + ": layer_norm_epsilon " + epsilon + " is not supported; tgpt's layer norm uses " + LayerNorm.EPS);
        }
        String styleName = j.path("tgpt_style").asText("gpt2");
        GptConfig.Style style = Arrays.stream(GptConfig.Style.values()).filter(s -> s.name().equalsIgnoreCase(styleName)).findFirst()
                .orElseThrow(() -> new UserError(file + ": tgpt_style \"" + styleName + "\" is not one of gpt1, gpt2, gpt3"));
        int context = j.has("n_positions") ? integer(file, j, "n_positions") : integer(file, j, "n_ctx");
        int band = j.has("tgpt_band") ? integer(file, j, "tgpt_band") : 0;
        int vocab = integer(file, j, "vocab_size");
        int layers = integer(file, j, "n_layer");
        int heads = integer(file, j, "n_head");
        try {
            return new GptConfig(style, vocab, context, layers, heads, channels, (float) j.path("resid_pdrop").asDouble(0), band);
        } catch (UserError e) {
            throw new UserError(file + ": " + e.getMessage());
        }
    }

    private static Tokenizer readTokenizer(Path file, JsonNode j, GptConfig config) {
        Tokenizer tokenizer;
        if (j.has("tgpt_tokenizer")) {
            try {
                tokenizer = Tokenizer.fromDescription(j.get("tgpt_tokenizer"));
            } catch (UserError e) {
                throw new UserError(file + ": " + e.getMessage());
            }
        } else if (config.vocabSize() == Gpt2Tokenizer.VOCAB_SIZE) {
            tokenizer = new Gpt2Tokenizer();
        } else {
            // a model of token ids only (a test fixture, say): fine for ./tgpt grads; text needs a tokenizer
            return null;
        }
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new UserError(file + ": the tokenizer has " + tokenizer.vocabSize() + " tokens but vocab_size is " + config.vocabSize());
        }
        return tokenizer;
    }

    /** Fills the parameters from HF's names and layouts, accepting what HF's own GPT-2 files add. */
    private static void readModel(Path file, Parameters p) {
        try (Safetensors st = Safetensors.open(file)) {
            Set<String> used = new HashSet<>();
            for (Parameters.Tensor t : p.tensors()) {
                // The hub's original GPT-2 checkpoints name GPT2Model's tensors, without "transformer.".
                String bare = t.name().substring(PREFIX.length());
                String name = st.tensors().containsKey(bare) ? bare : t.name();
                readTensor(st, name, hfShape(t), t.data(), t.transposedInHf());
                used.add(name);
            }
            for (Safetensors.Tensor extra : st.tensors().values()) {
                if (used.contains(extra.name()) || ATTENTION_MASK.matcher(extra.name()).matches()) {
                    continue;
                }
                if (!extra.name().equals("lm_head.weight")) {
                    throw mismatch(file, "extra tensor " + extra.name() + " " + Arrays.toString(extra.shape()));
                }
                FloatArray head = st.floats(extra.name());
                long[] wteShape = { p.config.vocabSize(), p.config.channels() };
                if (!Arrays.equals(extra.shape(), wteShape) || !Arrays.equals(head.toHeapArray(), p.wte.toHeapArray())) {
                    throw new UserError(file + ": lm_head.weight differs from transformer.wte.weight; tgpt ties the output layer to the token embedding");
                }
            }
        }
    }

    private static TrainingState readTraining(Path dir, GptConfig config) {
        Path optimizer = dir.resolve(OPTIMIZER);
        Path trainer = dir.resolve(TRAINER);
        if (Files.exists(optimizer) != Files.exists(trainer)) {
            throw new UserError(dir + " has " + (Files.exists(optimizer) ? OPTIMIZER + " but no " + TRAINER : TRAINER + " but no " + OPTIMIZER)
                    + ": an incomplete training state");
        }
        if (!Files.exists(optimizer)) {
            return null;
        }
        Parameters m = new Parameters(config);
        Parameters v = new Parameters(config);
        try (Safetensors st = Safetensors.open(optimizer)) {
            Set<String> used = new HashSet<>();
            for (Parameters moments : List.of(m, v)) {
                String prefix = moments == m ? "m." : "v.";
                for (Parameters.Tensor t : moments.tensors()) {
                    String name = prefix + t.name();
                    readTensor(st, name, Arrays.stream(t.shape()).asLongStream().toArray(), t.data(), false);
                    used.add(name);
                }
            }
            for (Safetensors.Tensor extra : st.tensors().values()) {
                if (!used.contains(extra.name())) {
                    throw mismatch(optimizer, "extra tensor " + extra.name() + " " + Arrays.toString(extra.shape()));
                }
            }
        }
        JsonNode j = readJson(trainer);
        return new TrainingState(longValue(trainer, j, "step"), m, v, longValue(trainer, j, "data_rng"), longValue(trainer, j, "dropout_seed"));
    }

    /** Copies a stored tensor into {@code into} once its shape is the expected one; {@code transposed}: HF's [in, out]. */
    private static void readTensor(Safetensors st, String name, long[] expected, FloatArray into, boolean transposed) {
        Safetensors.Tensor stored = st.tensors().get(name);
        if (stored == null) {
            throw mismatch(st.file(), "tensor " + name + " " + Arrays.toString(expected) + " is missing");
        }
        if (!Arrays.equals(stored.shape(), expected)) {
            throw mismatch(st.file(), "tensor " + name + " has shape " + Arrays.toString(stored.shape()) + ", expected "
                    + Arrays.toString(expected));
        }
        FloatArray data = st.floats(name);
        if (transposed) {
            data = transpose(data, (int) expected[0], (int) expected[1]);
        }
        MemorySegment.copy(data.getSegment(), 0, into.getSegment(), 0, into.getNumBytesOfSegment());
    }

    private static UserError mismatch(Path file, String problem) {
        return new UserError(file + ": config does not match the weights: " + problem);
    }

    /**
     * Tensors as Hugging Face lays them out (Conv1D weights transposed to [in, out]), named prefix + HF name: the
     * model's weights, or gradients shaped like them ({@code ./tgpt grads} writes "grad." + name).
     */
    public static Map<String, Safetensors.Entry> hfTensors(Parameters parameters, String prefix) {
        Map<String, Safetensors.Entry> out = new LinkedHashMap<>();
        for (Parameters.Tensor t : parameters.tensors()) {
            out.put(prefix + t.name(),
                    new Safetensors.Entry(hfShape(t), t.transposedInHf() ? transpose(t.data(), t.shape()[0], t.shape()[1]) : t.data()));
        }
        return out;
    }

    /** The shape HF stores: Conv1D weights as [in, out]. */
    private static long[] hfShape(Parameters.Tensor t) {
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        if (t.transposedInHf()) {
            return new long[] { shape[1], shape[0] };
        }
        return shape;
    }

    /** A [rows, cols] matrix as [cols, rows]. */
    private static FloatArray transpose(FloatArray a, int rows, int cols) {
        FloatArray t = new FloatArray(a.getSize());
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t.set(c * rows + r, a.get(r * cols + c));
            }
        }
        return t;
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + ": no such file");
        }
        try {
            JsonNode j = JSON.readTree(file.toFile());
            if (j == null || !j.isObject()) {
                throw new UserError(file + " is not a JSON object");
            }
            return j;
        } catch (JsonProcessingException e) {
            throw new UserError(file + " is not valid JSON: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr());
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")", e);
        }
    }

    private static int integer(Path file, JsonNode j, String key) {
        JsonNode n = j.get(key);
        if (n == null) {
            throw new UserError(file + ": \"" + key + "\" is missing");
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new UserError(file + ": \"" + key + "\" must be an integer, not " + n);
        }
        return n.intValue();
    }

    private static long longValue(Path file, JsonNode j, String key) {
        JsonNode n = j.get(key);
        if (n == null || !n.canConvertToLong() || !n.isIntegralNumber()) {
            throw new UserError(file + ": \"" + key + "\" must be an integer" + (n == null ? ", and is missing" : ", not " + n));
        }
        return n.longValue();
    }

    /** Written and flushed to disk, so the directory renamed into place never holds an empty file after a crash. */
    private static void writeJson(Path file, JsonNode j) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(j));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
    }

    private static Path sibling(Path dir, String suffix) {
        return dir.resolveSibling(dir.getFileName() + suffix);
    }

    /** Refuses to replace anything but a checkpoint directory, so a mistyped path never deletes someone's files. */
    private static void requireReplaceable(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new UserError(dir + " exists and is not a directory; choose another checkpoint directory");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!FILES.contains(f.getFileName().toString()) || !Files.isRegularFile(f)) {
                    throw new UserError(dir + " holds " + f.getFileName() + ", so it is not a tgpt checkpoint and will not be replaced; "
                            + "choose another checkpoint directory");
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot list " + dir + " (" + e + ")", e);
        }
    }

    /** Deletes a directory that {@link #requireReplaceable} accepted: flat, only a checkpoint's files. */
    private static void deleteCheckpoint(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        for (String f : FILES) {
            Files.deleteIfExists(dir.resolve(f));
        }
        Files.delete(dir);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
