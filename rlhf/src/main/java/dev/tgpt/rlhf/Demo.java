package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.data.Batches;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.data.Comparison;
import dev.tgpt.rlhf.data.Demonstration;
import dev.tgpt.rlhf.data.RlhfData;

/**
 * The end-to-end InstructGPT demo on Shakespeare, with a programmatic {@link Labeler} standing in for people: its
 * preference (positive words, and a response that ends) is one the pretrained model does not already satisfy. From a
 * pretrained character model (trained here for the tiny demo, or given), it writes DIR/data (demonstrations, K-way
 * rankings of the SFT model's own samples, prompts: TRL's JSONL formats), then runs SFT (DIR/sft) and the methods
 * asked for on the same data: the reward model (DIR/rm), PPO (DIR/ppo) and PPO-ptx (DIR/ppo-ptx); DPO on the rankings'
 * pairs (DIR/dpo); GRPO against the same reward model (DIR/grpo). Each policy is judged on held-out prompts by the labeler, not by a learned reward model
 * ({@link Judge}). DIR/report.json holds the figures README shows.
 */
public final class Demo {

    /** Sizes of one demo. */
    public record Size(int pretrainSteps, int sftSteps, int rankedPrompts, int slots, int rmSteps, int ppoIterations, int heldOut,
            int demonstrations) {
        public static Size of(String name) {
            return switch (name) {
                case "tiny" -> new Size(300, 100, 192, 4, 120, 16, 64, 4000);
                case "shakespeare" -> new Size(0, 300, 600, 4, 300, 40, 128, 4000);
                default -> throw new UserError("no demo '" + name + "'; demos: tiny (CI-sized, pretrains its own model), shakespeare (on --init)");
            };
        }
    }

    static final int MAX_RESPONSE = 40;
    static final double LABEL_NOISE = 0.5;

    private Demo() {
    }

    /**
     * @param base the options of every step after SFT: with LoRA ({@code base.lora()}) the reward model and each method
     *             train adapters on SFT's frozen weights; SFT itself trains every weight (it is the reference)
     * @param init a pretrained character-level model; null: pretrain a small one on the corpus first (the tiny demo)
     */
    public static Map<String, Object> run(String name, Path init, Path corpusFile, Path out, Set<Method> methods, Trainer.Options base,
            Backend backend, TrainingRun.Listener listener) {
        return run(Size.of(name), init, corpusFile, out, methods, base, backend, listener);
    }

    /**
     * As {@link #run(String, Path, Path, Path, Set, Trainer.Options, Backend, TrainingRun.Listener)}, at any size (a
     * shortened pipeline, say).
     */
    public static Map<String, Object> run(Size size, Path init, Path corpusFile, Path out, Set<Method> methods, Trainer.Options base, Backend backend,
            TrainingRun.Listener listener) {
        String corpus = Dataset.readText(corpusFile);
        Checkpoint pretrained = init != null ? Checkpoint.load(init) : pretrain(corpusFile, size, out.resolve("pretrain"), backend, listener);
        Tokenizer tokenizer = pretrained.tokenizer();
        if (tokenizer == null) {
            throw new UserError(init + " names no tokenizer, so the demo's texts cannot be encoded");
        }
        Labeler labeler = new Labeler(LABEL_NOISE);
        List<String> prompts = DemoData.prompts(corpus, Integer.MAX_VALUE, 7);
        List<String> heldOut = prompts.subList(0, size.heldOut());
        List<String> train = prompts.subList(size.heldOut(), prompts.size());
        List<Demonstration> demos = DemoData.demonstrations(corpus, labeler, size.demonstrations());
        Path data = out.resolve("data");
        RlhfData.writeDemonstrations(data.resolve("sft.jsonl"), demos);
        RlhfData.writePrompts(data.resolve("prompts.jsonl"), train);
        RlhfConfig c = RlhfConfig.demo(size, data, base.lora() != null);
        Map<String, Object> report = new LinkedHashMap<>();
        GptConfig model = pretrained.config().withDropout(0f);

        long t0 = System.nanoTime();
        Path sft = Pipeline.sft(pretrained, c.sft, out.resolve("sft"), backend, Trainer.Options.defaults(), listener);
        Checkpoint sftModel = Checkpoint.load(sft);
        Judge judge = new Judge(labeler, sftModel, heldOut, Dataset.fromText(corpusFile, tokenizer).val(), backend);
        judge.report("sft", sftModel, seconds(t0), Pipeline.sftPlan(model, c.sft, Trainer.Options.defaults()), report);
        List<Comparison> comparisons = rankSamples(sftModel, train.subList(0, Math.min(size.rankedPrompts(), train.size())), size.slots(), labeler,
                backend);
        RlhfData.writeComparisons(data.resolve("rm.jsonl"), comparisons);
        Path rmDir = null;
        if (methods.contains(Method.PPO) || methods.contains(Method.GRPO)) {
            t0 = System.nanoTime();
            // each method trains a fresh copy of SFT: sftModel stays the judge's and the reference's
            RewardModel.Result rm = Pipeline.rm(Checkpoint.load(sft), c.rm, demos, out.resolve("rm"), backend, base, listener);
            rmDir = rm.dir();
            report.put("rm_val_acc", rm.valAccuracy());
            report.put("rm_seconds", seconds(t0));
        }
        Ppo.Judge labelerJudge = (texts, ended) -> meanScore(labeler, texts, ended);
        if (methods.contains(Method.PPO)) {
            for (String variant : List.of("ppo", "ppo-ptx")) {
                c.ppo.ptx = variant.equals("ppo") ? 0f : RlhfConfig.Ppo.DEMO_PTX;
                t0 = System.nanoTime();
                Ppo.Result r = Pipeline.ppo(sft, rmDir, c.ppo, corpusFile, out.resolve(variant), backend, base, listener,
                        labelerJudge);
                judge.report(variant.replace('-', '_'), Checkpoint.load(r.checkpoint()), seconds(t0),
                        Pipeline.ppoPlan(model, model, tokenizer, train, c.ppo, base), report);
            }
        }
        if (methods.contains(Method.GRPO)) {
            t0 = System.nanoTime();
            Grpo.Result r = Pipeline.grpo(sft, rmDir.toString(), c.grpo, out.resolve("grpo"), backend, base, listener,
                    labelerJudge);
            judge.report("grpo", Checkpoint.load(r.checkpoint()), seconds(t0),
                    Pipeline.grpoPlan(model, model, tokenizer, train, c.grpo, base), report);
        }
        if (methods.contains(Method.DPO)) {
            t0 = System.nanoTime();
            Dpo.Result r = Pipeline.dpo(Checkpoint.load(sft), c.dpo, out.resolve("dpo"), backend, base, listener);
            report.put("dpo_val_acc", r.valAccuracy());
            judge.report("dpo", Checkpoint.load(r.checkpoint()), seconds(t0), Pipeline.dpoPlan(model, c.dpo, base), report);
        }
        return report;
    }

    private static double seconds(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
    }

    /**
     * How a post-trained policy compares with SFT on the held-out prompts, by what the policy never saw: the labeler's
     * mean score and its win rate against SFT's samples, the KL to SFT (the mean over the policy's own samples of
     * log π − log π_SFT of the response, a Monte Carlo estimate in nats per response), the mean response length, and
     * the language-modelling loss on the corpus's validation text (4 batches of 16 × the context, the same for every
     * model); with the method's wall time and planned memory.
     */
    static final class Judge {
        static final int PRETRAIN_BATCHES = 4;
        final Labeler labeler;
        final Checkpoint sft;
        final List<String> prompts;
        final List<Sample> sftSamples;
        final int[] valText;
        final Backend backend;

        Judge(Labeler labeler, Checkpoint sft, List<String> prompts, int[] valText, Backend backend) {
            this.labeler = labeler;
            this.sft = sft;
            this.prompts = prompts;
            this.sftSamples = samples(sft, prompts, backend);
            this.valText = valText;
            this.backend = backend;
        }

        void report(String key, Checkpoint policy, double seconds, MemoryPlan plan, Map<String, Object> report) {
            List<Sample> mine = policy == sft ? sftSamples : samples(policy, prompts, backend);
            report.put(key + "_labeler", meanScore(labeler, mine));
            if (policy != sft) {
                report.put(key + "_win_rate_vs_sft", labeler.winRate(texts(mine), ended(mine), texts(sftSamples), ended(sftSamples)));
                report.put(key + "_kl", kl(policy, mine));
            }
            report.put(key + "_pretrain_loss", pretrainLoss(policy));
            report.put(key + "_resp_len", mine.stream().mapToInt(m -> m.text().length()).average().orElse(0));
            report.put(key + "_seconds", seconds);
            report.put(key + "_memory_mib", plan.total() >> 20);
        }

        private double kl(Checkpoint policy, List<Sample> samples) {
            int T = policy.config().context();
            List<Sequences> rows = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                rows.add(Sequences.of(policy.tokenizer(), prompts.get(i), s.ended() ? s.text() + "\n" : s.text(), false, T));
            }
            float[] mine = Dpo.logps(Pipeline.model(policy), backend, rows, 16, T, dev.tgpt.engine.dist.Collective.single());
            float[] theirs = Dpo.logps(Pipeline.model(sft), backend, rows, 16, T, dev.tgpt.engine.dist.Collective.single());
            double sum = 0;
            for (int i = 0; i < mine.length; i++) {
                sum += mine[i] - theirs[i];
            }
            return sum / mine.length;
        }

        private double pretrainLoss(Checkpoint policy) {
            int B = 16;
            int T = policy.config().context();
            Batches batches = new Batches(valText, B, T, 5);
            double sum = 0;
            try (Scorer scorer = new Scorer(Pipeline.model(policy), backend, B, T, null)) {
                for (int i = 0; i < PRETRAIN_BATCHES; i++) {
                    scorer.score(batches::next);
                    for (int n = 0; n < B * T; n++) {
                        sum += scorer.activations().losses.get(n);
                    }
                }
            }
            return sum / (PRETRAIN_BATCHES * B * T);
        }
    }

    /**
     * What each step of a demo will hold (pretraining the tiny demo's model, SFT, the reward model, PPO), planned from
     * {@code init}'s header or the tiny model's shape before anything runs.
     */
    public static Map<String, MemoryPlan> plans(String name, Path init, Path corpusFile, Set<Method> methods, Trainer.Options base) {
        Size size = Size.of(name);
        String corpus = Dataset.readText(corpusFile);
        Map<String, MemoryPlan> plans = new LinkedHashMap<>();
        GptConfig model;
        Tokenizer tokenizer;
        if (init != null) {
            Checkpoint.Header h = Checkpoint.header(init);
            model = h.config();
            tokenizer = h.tokenizer();
        } else {
            tokenizer = CharTokenizer.of(corpus);
            model = tinyModel(tokenizer);
            plans.put("pretrain", MemoryPlan.training(model, pretraining(size), true, 0));
        }
        model = model.withDropout(0f);
        RlhfConfig c = RlhfConfig.demo(size, Path.of("data"), base.lora() != null);
        List<String> prompts = DemoData.prompts(corpus, Integer.MAX_VALUE, 7);
        plans.put("sft", Pipeline.sftPlan(model, c.sft, Trainer.Options.defaults()));
        List<String> train = prompts.subList(size.heldOut(), prompts.size());
        if (methods.contains(Method.PPO) || methods.contains(Method.GRPO)) {
            plans.put("rm", Pipeline.rmPlan(model, c.rm, size.slots(), base));
        }
        if (methods.contains(Method.PPO)) {
            plans.put("ppo", Pipeline.ppoPlan(model, model, tokenizer, train, c.ppo, base));
        }
        if (methods.contains(Method.GRPO)) {
            plans.put("grpo", Pipeline.grpoPlan(model, model, tokenizer, train, c.grpo, base));
        }
        if (methods.contains(Method.DPO)) {
            plans.put("dpo", Pipeline.dpoPlan(model, c.dpo, base));
        }
        return plans;
    }

    /** The tiny demo's model: 2 layers, 2 heads, 64 wide, a context of 64 characters. */
    private static GptConfig tinyModel(Tokenizer tokenizer) {
        return new GptConfig(GptConfig.Style.GPT2, tokenizer.vocabSize(), 64, 2, 2, 64, 0f, 0);
    }

    private static Trainer.Options pretraining(Size size) {
        return Trainer.Options.defaults().batch(16).context(64).steps(size.pretrainSteps()).accumulation(1).lr(3e-3f).minLr(3e-4f).warmup(30)
                .weightDecay(0.1f).beta1(0.9f).beta2(0.99f).eps(1e-8f).gradClip(1f).seed(1);
    }

    private static Checkpoint pretrain(Path corpus, Size size, Path out, Backend backend, TrainingRun.Listener listener) {
        CharTokenizer tokenizer = CharTokenizer.of(Dataset.readText(corpus));
        Dataset data = Dataset.fromText(corpus, tokenizer);
        GptConfig config = tinyModel(tokenizer);
        Parameters params = new Parameters(config);
        params.initialise(1);
        Trainer.Options o = pretraining(size);
        TrainingRun.Settings s = new TrainingRun.Settings(o, size.pretrainSteps(), 4, 0, 0, size.pretrainSteps(), (Duration) null, out);
        listener.message("demo: pretraining a 2-layer character model on " + corpus.getFileName());
        TrainingRun.run(new Gpt(config, params), tokenizer, data, backend, s, null, listener);
        return Checkpoint.load(TrainingRun.checkpointDir(out));
    }

    /** A response as the labeler sees it: its text without the end of line, and whether it ended. */
    record Sample(String text, boolean ended) {
    }

    /** One response per prompt, sampled at temperature 1 from the full distribution, ending at the end of a line. */
    static List<Sample> samples(Checkpoint model, List<String> prompts, Backend backend) {
        return samples(model, prompts, backend, 0);
    }

    private static List<Sample> samples(Checkpoint model, List<String> prompts, Backend backend, long seed) {
        int B = 32;
        List<Sample> out = new ArrayList<>();
        try (Sampler sampler = new Sampler(new Gpt(model.config(), model.parameters()), backend, B)) {
            for (int from = 0; from < prompts.size(); from += B) {
                List<String> batch = prompts.subList(from, Math.min(prompts.size(), from + B));
                Sampler.Options o = new Sampler.Options(MAX_RESPONSE, 1f, 0, 1f, List.of("\n"), seed * 1000 + from);
                for (String text : sampler.generate(batch, model.tokenizer(), o)) {
                    // a character model's response ends with its newline, which the stop text removes
                    out.add(new Sample(text, text.length() < MAX_RESPONSE));
                }
            }
        }
        return out;
    }

    /** K samples of the model per prompt, ranked by the (noisy) labeler: the reward model's data. */
    static List<Comparison> rankSamples(Checkpoint model, List<String> prompts, int K, Labeler labeler, Backend backend) {
        List<List<Sample>> draws = new ArrayList<>();
        for (int k = 0; k < K; k++) {
            draws.add(samples(model, prompts, backend, k + 1));
        }
        SplittableRandom noise = new SplittableRandom(11);
        List<Comparison> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            List<String> responses = new ArrayList<>();
            List<Boolean> ended = new ArrayList<>();
            for (List<Sample> d : draws) {
                Sample s = d.get(i);
                responses.add(s.ended() ? s.text() + "\n" : s.text());
                ended.add(s.ended());
            }
            out.add(new Comparison(prompts.get(i), labeler.rank(responses, ended, noise)));
        }
        return out;
    }

    static double meanScore(Labeler labeler, List<Sample> samples) {
        return meanScore(labeler, texts(samples), ended(samples));
    }

    static double meanScore(Labeler labeler, List<String> texts, List<Boolean> ended) {
        double sum = 0;
        for (int i = 0; i < texts.size(); i++) {
            sum += labeler.score(texts.get(i), ended.get(i));
        }
        return sum / texts.size();
    }

    private static List<String> texts(List<Sample> samples) {
        return samples.stream().map(Sample::text).toList();
    }

    private static List<Boolean> ended(List<Sample> samples) {
        return samples.stream().map(Sample::ended).toList();
    }
}
