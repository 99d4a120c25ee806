package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.gpt.io.TrainingState;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Pretrains a GPT on a text (or llm.c token files), writing OUT/metrics.jsonl, OUT/checkpoint and OUT/samples.txt.",
                "With no options: the main job, a character-level model on data/tinyshakespeare.txt (90/10 split) on the default device, "
                        + "about 9 minutes on two cores, then a sample." })
final class TrainCommand implements Callable<Integer> {

    /** Beside token files: the tokenizer that made them (./tgpt tokenize writes it). */
    static final String TOKENIZER_FILE = "tokenizer.json";

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    TrainingOptions training;

    @Option(names = "--data", paramLabel = "FILE", defaultValue = "data/tinyshakespeare.txt",
            description = "A text file (split 90/10), or an llm.c token file for training (with --val). Default: ${DEFAULT-VALUE}.")
    Path data;

    @Option(names = "--val", paramLabel = "FILE", description = "An llm.c token file for validation, when --data is one too.")
    Path val;

    @Option(names = "--tokenizer", description = "char (the text's characters; the default for a text) or gpt2 (GPT-2's BPE; the default for "
            + "token files without a tokenizer.json beside them).")
    String tokenizer;

    @Option(names = "--model", paramLabel = "PRESET", defaultValue = "shakespeare-char",
            description = "A preset (gpt1, gpt2, gpt2-355m, ..., gpt3-small, ..., shakespeare-char, tiny). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--init", paramLabel = "DIR", description = "Start from these weights (a checkpoint or a Hugging Face GPT-2 directory).")
    Path init;

    @Option(names = "--layers", description = "Override the preset's layers.")
    Integer layers;

    @Option(names = "--heads", description = "Override the preset's heads.")
    Integer heads;

    @Option(names = "--channels", description = "Override the preset's width.")
    Integer channels;

    @Option(names = "--context", description = "Tokens per sequence (default: the preset's context).")
    Integer context;

    @Option(names = "--dropout", description = "Override the preset's dropout.")
    Float dropout;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/shakespeare", description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint, exactly.")
    boolean resume;

    @Option(names = "--steps", defaultValue = "3300", description = "Optimizer steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "Sequences per micro-step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--accumulation", defaultValue = "1", description = "Micro-steps per optimizer step. Default: ${DEFAULT-VALUE}.")
    int accumulation;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--min-lr", defaultValue = "2e-4", description = "Learning rate at the end of the cosine. Default: ${DEFAULT-VALUE}.")
    float minLr;

    @Option(names = "--warmup", defaultValue = "100", description = "Warmup steps. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW's decoupled weight decay (matrices only). Default: ${DEFAULT-VALUE}.")
    float weightDecay;

    @Option(names = "--beta1", defaultValue = "0.9", description = "Default: ${DEFAULT-VALUE}.")
    float beta1;

    @Option(names = "--beta2", defaultValue = "0.99", description = "Default: ${DEFAULT-VALUE}.")
    float beta2;

    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clipping; 0: off. Default: ${DEFAULT-VALUE}.")
    float clip;

    @Option(names = "--seed", defaultValue = "1337", description = "Seeds the weights, the batches and dropout. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--eval-every", defaultValue = "250", description = "Steps between validation losses. Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Option(names = "--eval-batches", defaultValue = "20", description = "Batches per validation loss. Default: ${DEFAULT-VALUE}.")
    int evalBatches;

    @Option(names = "--sample-every", defaultValue = "0", description = "Steps between samples (0: at the end only). Default: ${DEFAULT-VALUE}.")
    int sampleEvery;

    @Option(names = "--sample-tokens", defaultValue = "500", description = "Tokens per sample. Default: ${DEFAULT-VALUE}.")
    int sampleTokens;

    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Steps between checkpoints. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--max-time", paramLabel = "DURATION", description = "Stop cleanly after this long, e.g. 9m30s or 600s.")
    String maxTime;

    @Mixin
    PlanOption plan;

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || batch < 1 || accumulation < 1 || evalEvery < 1 || evalBatches < 1 || checkpointEvery < 1) {
            throw new UserError("--steps, --batch, --accumulation, --eval-every, --eval-batches and --checkpoint-every must be at least 1");
        }
        Backend backend = device.backend();
        Checkpoint start = null;
        if (resume) {
            Path ckpt = TrainingRun.checkpointDir(out);
            if (!Files.isDirectory(ckpt)) {
                throw new UserError("--resume: " + out + " has no checkpoint to continue from");
            }
            start = Checkpoint.load(ckpt);
            if (start.training() == null) {
                throw new UserError("--resume: " + ckpt + " holds a model but no training state");
            }
        } else if (init != null) {
            start = Checkpoint.load(init);
        }
        Tokenizer tok = start != null ? start.tokenizer() : tokenizer();
        Dataset dataset = data.toString().endsWith(".bin") ? Dataset.fromTokenFiles(data, requireVal()) : Dataset.fromText(data, tok);
        GptConfig config = start != null ? start.config() : config(tok);
        if (dropout != null) {
            config = config.withDropout(dropout);
        }
        int T = context != null ? context : config.context();
        if (T > config.context()) {
            throw new UserError("--context " + T + " exceeds the model's context of " + config.context());
        }
        Trainer.Options options = training.options().batch(batch).context(T).steps(steps).accumulation(accumulation).lr(lr).minLr(minLr)
                .warmup(warmup).weightDecay(weightDecay).beta1(beta1).beta2(beta2).eps(1e-8f).gradClip(clip).seed(seed);
        long loaded = start == null ? 0 : 4 * Parameters.slabFloats(config) * (start.training() == null ? 1 : 3);
        plan.show("", MemoryPlan.training(config, options, true, loaded), backend, MemoryPlan.advice(options));
        if (plan.dryRun()) {
            return 0;
        }
        var err = spec.commandLine().getErr();
        Parameters params;
        if (start != null) {
            params = new Parameters(config);
            copyWeights(start.parameters(), params);
        } else {
            params = new Parameters(config);
            params.initialise(seed);
        }
        if (Files.exists(TrainingRun.checkpointDir(out)) && !resume) {
            throw new UserError(out + " already holds a run; use --resume to continue it, or another --out");
        }
        Files.createDirectories(out);
        TrainingRun.Settings settings = new TrainingRun.Settings(options, evalEvery, evalBatches, sampleEvery, sampleTokens, checkpointEvery,
                maxTime == null ? null : duration(maxTime), out);
        TrainingState state = resume ? start.training() : null;
        TrainingRun.Result result;
        try (ProgressBar bar = Progress.bar("train", steps)) {
            bar.stepTo(state == null ? 0 : state.step());
            result = TrainingRun.run(new Gpt(config, params), tok, dataset, backend, settings, state, new TrainingRun.Listener() {
                @Override
                public void step(int step, int total, float loss, Float valLoss, double tokensPerSecond) {
                    bar.stepTo(step);
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f%s %,.0f tok/s", loss,
                            valLoss == null ? "" : String.format(Locale.ROOT, " val %.3f", valLoss), tokensPerSecond));
                }

                @Override
                public void message(String line) {
                    Progress.above(bar, err, line);
                }
            });
        }
        var o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%d steps in %s: train loss %.4f, val loss %.4f%ncheckpoint: %s%nmetrics: %s%n", result.steps(),
                Progress.format(result.time()), result.trainLoss(), result.valLoss(), result.checkpoint(), out.resolve("metrics.jsonl"));
        o.flush();
        return 0;
    }

    private Path requireVal() {
        if (val == null) {
            throw new UserError("--data " + data + " is a token file: give the validation tokens with --val");
        }
        return val;
    }

    private Tokenizer tokenizer() {
        boolean tokens = data.toString().endsWith(".bin");
        Path described = data.toAbsolutePath().resolveSibling(TOKENIZER_FILE);
        if (tokens && tokenizer == null && Files.exists(described)) {
            try {
                return Tokenizer.fromDescription(new com.fasterxml.jackson.databind.ObjectMapper().readTree(described.toFile()));
            } catch (java.io.IOException e) {
                throw new UserError(described + ": cannot read (" + e.getMessage() + ")");
            }
        }
        String kind = tokenizer != null ? tokenizer : tokens ? "gpt2" : "char";
        if (tokens && kind.equals("char")) {
            throw new UserError("--tokenizer char needs the text: token files carry no characters (./tgpt tokenize writes tokenizer.json beside them)");
        }
        return switch (kind) {
            case "char" -> CharTokenizer.of(Dataset.readText(data));
            case "gpt2" -> new Gpt2Tokenizer();
            default -> throw new UserError("--tokenizer takes char or gpt2, not " + kind);
        };
    }

    private GptConfig config(Tokenizer tok) {
        GptConfig p = GptConfig.preset(model);
        return new GptConfig(p.style(), tok.vocabSize(), context != null ? Math.max(context, p.context()) : p.context(),
                layers != null ? layers : p.layers(), heads != null ? heads : p.heads(), channels != null ? channels : p.channels(), p.dropout(),
                p.band());
    }

    private static void copyWeights(Parameters from, Parameters to) {
        for (int i = 0; i < to.tensors().size(); i++) {
            var a = from.tensors().get(i).data();
            java.lang.foreign.MemorySegment.copy(a.getSegment(), 0, to.tensors().get(i).data().getSegment(), 0, a.getNumBytesOfSegment());
        }
    }

    static Duration duration(String text) {
        try {
            return Duration.parse("PT" + text.toUpperCase(Locale.ROOT));
        } catch (java.time.format.DateTimeParseException e) {
            throw new UserError("--max-time takes a duration such as 9m30s, 600s or 1h, not '" + text + "'");
        }
    }
}
