package dev.tgpt.gpt;

import java.nio.file.Path;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Devices;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;

/**
 * A GPT for embedding in a JVM program: load one, generate, score text, train it, save it, on a chosen device.
 *
 * <pre>{@code
 * try (GptModel gpt = GptModel.load(Path.of("runs/shakespeare/checkpoint"), "auto")) {
 *     String text = gpt.generate("ROMEO:", new Sampler.Options(100, 0.8f, 0, 1f, List.of(), 42));
 *     double logLikelihood = gpt.logLikelihood("To be, or not to be");
 * }
 * }</pre>
 */
public final class GptModel implements AutoCloseable {

    private final Gpt model;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private ChatTemplate chatTemplate = ChatTemplate.BASE;
    private QuantMatmulOps.Format decoding = QuantMatmulOps.Format.FP32;
    private Trainer trainer;
    private Sampler sampler;

    public GptModel(GptConfig config, Parameters params, Tokenizer tokenizer, Backend backend) {
        this.model = new Gpt(config, params);
        this.tokenizer = tokenizer;
        this.backend = backend;
    }

    /** A checkpoint, a Hugging Face GPT-2 directory or llm.c's model file, on a device (jvm, N:M or auto). */
    public static GptModel load(Path path, String device) {
        Checkpoint c = Checkpoint.load(path);
        ChatTemplate t = ChatTemplate.of(path);
        return new GptModel(c.config(), c.parameters(), c.tokenizer(), Devices.select(device)).chatTemplate(t);
    }

    /** A new model with GPT-2's initialisation. */
    public static GptModel create(GptConfig config, Tokenizer tokenizer, long seed, String device) {
        Parameters p = new Parameters(config.withVocabSize(Math.max(config.vocabSize(), tokenizer.vocabSize())));
        p.initialise(seed);
        return new GptModel(p.config, p, tokenizer, Devices.select(device));
    }

    public GptConfig config() {
        return model.config;
    }

    public Tokenizer tokenizer() {
        return requireTokenizer();
    }

    /** How chat messages become its prompt: the checkpoint's {@value ChatTemplate#FILE}, else {@link ChatTemplate#BASE}. */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    public GptModel chatTemplate(ChatTemplate t) {
        chatTemplate = t;
        return this;
    }

    /** Generates with the matmul weights packed as {@code format} (fp32: as they are); training still reads them in fp32. */
    public GptModel decodingWith(QuantMatmulOps.Format format) {
        QuantMatmulOps.requireWholeBlocks(format, model.config.channels()); // before the next generate packs anything
        decoding = format;
        closeSampler();
        return this;
    }

    /** The prompt's continuation. */
    public String generate(String prompt, Sampler.Options options) {
        return generate(prompt, options, text -> {
        }).text();
    }

    /** A continuation, its end ("stop" or "length") and its token counts. */
    public record Generation(String text, String finishReason, int promptTokens, int completionTokens) {
    }

    /** The prompt's continuation; {@code partial} hears its text as it grows, each piece once it is final. */
    public Generation generate(String prompt, Sampler.Options options, java.util.function.Consumer<String> partial) {
        syncTraining();
        if (sampler == null) {
            sampler = new Sampler(new Gpt(model.config.withDropout(0f), model.params).decodingWith(decoding), backend, 1);
        }
        Sampler.Sequence q = sampler.start(prompt, requireTokenizer(), options, options.seed(), 1);
        while (sampler.step()) {
            partial.accept(q.pollText());
        }
        partial.accept(q.pollText());
        return new Generation(q.text(), q.finishReason(), q.promptTokens(), q.generatedTokens());
    }

    /** Σ log p(token | the tokens before it) over the text's tokens after the first, in nats. */
    public double logLikelihood(String text) {
        syncTraining();
        int[] tokens = requireTokenizer().encode(text);
        int T = tokens.length - 1;
        if (T < 1) {
            throw new UserError("scoring needs a text of at least two tokens");
        }
        if (T > model.config.context()) {
            throw new UserError("the text has " + tokens.length + " tokens; the model scores at most " + (model.config.context() + 1));
        }
        try (Scorer scorer = new Scorer(model, backend, 1, T, null)) {
            scorer.score((inputs, targets) -> {
                for (int t = 0; t < T; t++) {
                    inputs.set(t, tokens[t]);
                    targets.set(t, tokens[t + 1]);
                }
            });
            double sum = 0;
            for (int t = 0; t < T; t++) {
                sum -= scorer.activations().losses.get(t);
            }
            return sum;
        }
    }

    /** One optimizer step (see {@link Trainer}); the first call fixes the options for the ones after it. */
    public float trainStep(Trainer.Options options, Trainer.BatchSource batches) {
        if (trainer == null) {
            closeSampler();
            trainer = new Trainer(model, backend, options);
        }
        return trainer.trainStep(batches);
    }

    /** Writes the model (and its tokenizer) as a checkpoint directory that Hugging Face can load too. */
    public void save(Path dir) {
        syncTraining();
        Checkpoint.save(dir, model.config, tokenizer, model.params, null);
    }

    private void syncTraining() {
        if (trainer != null) {
            trainer.sync();
            closeSampler();
        }
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new UserError("this model has no tokenizer (its directory names none and its vocabulary is not GPT-2's): it computes on "
                    + "token ids only");
        }
        return tokenizer;
    }

    private void closeSampler() {
        if (sampler != null) {
            sampler.close();
            sampler = null;
        }
    }

    @Override
    public void close() {
        closeSampler();
        if (trainer != null) {
            trainer.close();
        }
    }
}
