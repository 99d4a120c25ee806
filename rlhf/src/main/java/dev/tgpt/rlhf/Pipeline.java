package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.data.Comparison;
import dev.tgpt.rlhf.data.Demonstration;
import dev.tgpt.rlhf.data.RlhfData;

/**
 * The steps from their settings: what {@code ./tgpt sft}, {@code rm}, {@code ppo}, {@code dpo} and {@code rlhf} run; each
 * takes the ranks it trains with (and ZeRO's stage) from {@code base}. Every
 * model runs without dropout: PPO's ratios compare two forward passes that must agree when the policy has not moved.
 */
public final class Pipeline {

    private Pipeline() {
    }

    /** SFT from a pretrained model; returns its checkpoint directory. */
    public static Path sft(Checkpoint pretrained, RlhfConfig.Sft c, Path out, Backend backend, Trainer.Options base, TrainingRun.Listener listener) {
        require(c.data, "SFT needs demonstrations (sft.data, or --data)");
        List<Demonstration> all = RlhfData.demonstrations(Path.of(c.data));
        int held = heldOut(all.size(), c.heldOut);
        Tokenizer tokenizer = tokenizer(pretrained);
        Trainer.Options o = options(base, c.batch, pretrained.config().context(), c.steps, c.lr, c.warmup, c.seed);
        Sft.run(model(pretrained).trainedAs(o), tokenizer, all.subList(0, all.size() - held), all.subList(all.size() - held, all.size()), backend,
                new Sft.Settings(o, c.evalEvery, out), listener);
        return TrainingRun.checkpointDir(out);
    }

    /** The reward model from the SFT model; demonstrations (c's sibling SFT data, if any) set its zero. */
    public static RewardModel.Result rm(Checkpoint sft, RlhfConfig.Rm c, List<Demonstration> demos, Path out, Backend backend,
            Trainer.Options base, TrainingRun.Listener listener) {
        require(c.data, "the reward model needs rankings (rm.data, or --data)");
        List<Comparison> all = RlhfData.comparisons(Path.of(c.data));
        int held = heldOut(all.size(), c.heldOut);
        Trainer.Options o = options(base, 1, sft.config().context(), c.steps, c.lr, c.warmup, c.seed);
        return RewardModel.train(model(sft).trainedAs(o), tokenizer(sft), all.subList(0, all.size() - held), all.subList(all.size() - held, all.size()), demos,
                backend, new RewardModel.Settings(o, c.prompts, c.evalEvery, out), listener);
    }

    /** DPO from the SFT model (the policy, and its own reference) on preference pairs. */
    public static Dpo.Result dpo(Checkpoint sft, RlhfConfig.Dpo c, Path out, Backend backend, Trainer.Options base, TrainingRun.Listener listener) {
        require(c.data, "DPO needs preference pairs (dpo.data, or --data)");
        List<Comparison> all = RlhfData.comparisons(Path.of(c.data));
        int held = heldOut(all.size(), c.heldOut);
        Trainer.Options o = options(base, 2 * c.pairs, sft.config().context(), c.steps, c.lr, c.warmup, c.seed);
        return Dpo.train(model(sft).trainedAs(o), tokenizer(sft), all.subList(0, all.size() - held), all.subList(all.size() - held, all.size()), backend,
                new Dpo.Settings(o, c.pairs, c.beta, c.evalEvery, out), listener);
    }

    /**
     * PPO from the SFT model in {@code sftDir} (the policy, and a frozen copy as the reference) against the reward model
     * in {@code rmDir} (frozen, and a copy as the value model); pretraining text for PPO-ptx and the pretraining loss
     * (null: neither). With LoRA ({@code base.lora()}) the policy and the value model train adapters on frozen weights,
     * so the reference is the policy's own weights with the adapters off, and the reward model the value model's: two
     * copies of weights instead of four.
     */
    public static Ppo.Result ppo(Path sftDir, Path rmDir, RlhfConfig.Ppo c, Path pretrainText, Path out, Backend backend,
            Trainer.Options base, TrainingRun.Listener listener, Ppo.Judge judge) {
        require(c.prompts, "PPO needs prompts (ppo.prompts, or --prompts)");
        if (c.ptx > 0 && pretrainText == null) {
            throw new UserError("PPO-ptx (ptx > 0) needs pretraining text (pretrainData, or --pretrain-data)");
        }
        List<String> prompts = RlhfData.prompts(Path.of(c.prompts));
        Checkpoint policy = Checkpoint.load(sftDir);
        Path backbone = TrainingRun.checkpointDir(rmDir);
        Checkpoint reward = Checkpoint.load(backbone);
        if (reward.config().channels() != policy.config().channels() || reward.config().vocabSize() != policy.config().vocabSize()) {
            throw new UserError("the reward model in " + rmDir + " was not trained from this policy's architecture and vocabulary");
        }
        RewardHead head = RewardModel.loadHead(rmDir, reward.config().channels(), 1, 1);
        Tokenizer tokenizer = tokenizer(policy);
        Dataset text = pretrainText == null ? null : Dataset.fromText(pretrainText, tokenizer);
        Trainer.Options po = options(base, c.batch, policy.config().context(), Integer.MAX_VALUE, c.lr, 0, c.seed);
        Trainer.Options vo = options(base, c.batch, policy.config().context(), Integer.MAX_VALUE, c.valueLr, 0, c.seed);
        Ppo.Settings s = new Ppo.Settings(c.iterations, c.rollouts, c.batch, c.epochs, c.maxResponse, po, vo, c.clip, c.valueClip, c.gamma, c.lambda,
                c.kl(), c.ptx, c.evalEvery, c.evalBatches, c.seed, out);
        Gpt policyModel = model(policy).trainedAs(po);
        Gpt valueModel = model(reward).trainedAs(vo);
        Gpt referenceModel = base.lora() != null ? policyModel.withoutAdapters() : model(Checkpoint.load(sftDir));
        Gpt rewardModel = base.lora() != null ? valueModel.withoutAdapters() : model(Checkpoint.load(backbone));
        Ppo ppo = new Ppo(policyModel, referenceModel, rewardModel, head, valueModel, tokenizer, prompts, text == null ? null : text.train(),
                text == null ? null : text.val(), backend, s);
        try (ppo) {
            return ppo.run(judge, listener);
        }
    }

    /**
     * GRPO from the SFT model in {@code sftDir} (the policy, and a frozen copy as the reference), rewarded by the reward
     * model in {@code reward} or, for "labeler", by the demo's labeler as a reward function.
     */
    public static Grpo.Result grpo(Path sftDir, String reward, RlhfConfig.Grpo c, Path out, Backend backend, Trainer.Options base,
            TrainingRun.Listener listener, Ppo.Judge judge) {
        require(c.prompts, "GRPO needs prompts (grpo.prompts, ppo.prompts, or --prompts)");
        require(reward, "GRPO needs a reward: a reward model's directory, or labeler");
        List<String> prompts = RlhfData.prompts(Path.of(c.prompts));
        Checkpoint policy = Checkpoint.load(sftDir);
        Tokenizer tokenizer = tokenizer(policy);
        int T = Ppo.length(Ppo.encode(prompts, tokenizer), c.maxResponse, policy.config().context());
        Grpo.Rewards rewards;
        if (reward.equals(LABELER)) {
            rewards = Grpo.function(new Labeler(Labeler.DEFAULT_NOISE), tokenizer);
        } else {
            Checkpoint rm = Checkpoint.load(TrainingRun.checkpointDir(Path.of(reward)));
            if (rm.config().vocabSize() != policy.config().vocabSize()) {
                throw new UserError("the reward model in " + reward + " was not trained on this policy's vocabulary");
            }
            rewards = Grpo.model(model(rm), RewardModel.loadHead(Path.of(reward), rm.config().channels(), 1, 1), backend, c.batch, T);
        }
        Trainer.Options po = options(base, c.batch, policy.config().context(), Integer.MAX_VALUE, c.lr, 0, c.seed);
        Grpo.Settings s = new Grpo.Settings(c.iterations, c.promptsPerIteration, c.group, c.batch, c.epochs, c.maxResponse, po, c.clip, c.beta,
                c.klInReward, c.evalEvery, c.seed, out);
        Gpt policyModel = model(policy).trainedAs(po);
        // with LoRA the reference is the policy's own frozen weights, the adapters off
        Gpt referenceModel = base.lora() != null ? policyModel.withoutAdapters() : model(Checkpoint.load(sftDir));
        try (Grpo grpo = new Grpo(policyModel, referenceModel, rewards, tokenizer, prompts, backend, s)) {
            return grpo.run(judge, listener);
        }
    }

    /** What {@code --reward} names instead of a reward model's directory: the demo's labeler as a reward function. */
    public static final String LABELER = "labeler";

    /** SFT's memory: the model's weights and what its trainer adds (SFT trains as pretraining does). */
    public static MemoryPlan sftPlan(GptConfig model, RlhfConfig.Sft c, Trainer.Options base) {
        return MemoryPlan.training(model, options(base, c.batch, model.context(), c.steps, c.lr, c.warmup, c.seed), false, 0);
    }

    /** The reward model's: each batch holds {@code c.prompts} prompts with K responses each (K: the longest ranking). */
    public static MemoryPlan rmPlan(GptConfig model, RlhfConfig.Rm c, int K, Trainer.Options base) {
        return MemoryPlan.training(model, options(base, c.prompts * K, model.context(), c.steps, c.lr, c.warmup, c.seed), false, 0);
    }

    /**
     * DPO's: the policy and its trainer on batches of 2·pairs rows; the reference's log-probabilities are computed
     * before the trainer exists, by a forward pass that needs less.
     */
    public static MemoryPlan dpoPlan(GptConfig model, RlhfConfig.Dpo c, Trainer.Options base) {
        return MemoryPlan.training(model, options(base, 2 * c.pairs, model.context(), c.steps, c.lr, c.warmup, c.seed), false, 0);
    }

    /**
     * PPO's: the policy and its frozen reference (SFT's shape), the reward model and the value model trained from it
     * (the reward model's), the policy's and value model's trainers, the forward passes of the reference and the
     * reward model, and the decoder that samples the rollouts; every batch is as long as the longest prompt and a whole
     * response.
     */
    public static MemoryPlan ppoPlan(GptConfig policy, GptConfig reward, Tokenizer tokenizer, List<String> prompts, RlhfConfig.Ppo c,
            Trainer.Options base) {
        if (tokenizer == null) {
            throw new UserError("the model names no tokenizer, so texts cannot be encoded for it");
        }
        int T = Ppo.length(Ppo.encode(prompts, tokenizer), c.maxResponse, policy.context());
        int B = c.batch;
        Trainer.Options po = options(base, B, T, Integer.MAX_VALUE, c.lr, 0, c.seed);
        Trainer.Options vo = options(base, B, T, Integer.MAX_VALUE, c.valueLr, 0, c.seed);
        boolean lora = base.lora() != null;
        return MemoryPlan.weights(policy).times(lora ? 1 : 2, lora ? "policy and reference: adapters off" : "policy, reference")
                .plus(MemoryPlan.weights(reward).times(lora ? 1 : 2, lora ? "reward and value: adapters off" : "reward, value"))
                .plus(MemoryPlan.trainer(policy, po).times(1, "policy")).plus(MemoryPlan.trainer(reward, vo).times(1, "value"))
                .with("reference's and reward model's activations", Gpt.activationFootprint(policy, B, T, false), "the reference's")
                .with("reference's and reward model's activations", Gpt.activationFootprint(reward, B, T, false), "the reward model's")
                .with("rollouts' decoding state", Gpt.decoderFootprint(policy, c.rollouts), "the rollouts' decoder's");
    }

    /**
     * GRPO's: the policy and its frozen reference, the policy's trainer, the reference's forward pass, the decoder that
     * samples an iteration's P·G responses, and the reward model's weights and forward pass unless a function rewards.
     */
    public static MemoryPlan grpoPlan(GptConfig policy, GptConfig reward, Tokenizer tokenizer, List<String> prompts, RlhfConfig.Grpo c,
            Trainer.Options base) {
        if (tokenizer == null) {
            throw new UserError("the model names no tokenizer, so texts cannot be encoded for it");
        }
        int T = Ppo.length(Ppo.encode(prompts, tokenizer), c.maxResponse, policy.context());
        boolean lora = base.lora() != null;
        MemoryPlan plan = MemoryPlan.weights(policy).times(lora ? 1 : 2, lora ? "policy and reference: adapters off" : "policy, reference")
                .plus(MemoryPlan.trainer(policy, options(base, c.batch, T, Integer.MAX_VALUE, c.lr, 0, c.seed)).times(1, "policy"))
                .with("frozen models' activations", Gpt.activationFootprint(policy, c.batch, T, false), "the reference's")
                .with("rollouts' decoding state", Gpt.decoderFootprint(policy, c.promptsPerIteration * c.group), "the rollouts' decoder's");
        return reward == null ? plan
                : plan.plus(MemoryPlan.weights(reward).times(1, "reward")).with("frozen models' activations",
                        Gpt.activationFootprint(reward, c.batch, T, false), "the reward model's");
    }

    /**
     * The steps' plans from a config, before any of them runs (they run one after another, so each must fit on its
     * own): SFT (every weight: with LoRA in {@code base}, only the steps after it train adapters), then the reward model
     * and PPO, or DPO, or GRPO, or all of them; the reward and value models share SFT's shape,
     * which is the pretrained model's. Checks the config's data files are named, as the steps would.
     */
    public static java.util.Map<String, MemoryPlan> plans(RlhfConfig c, java.util.Set<Method> methods, Trainer.Options base) {
        require(c.model, "\"model\" (the pretrained model) is missing");
        require(c.sft.data, "SFT needs demonstrations (sft.data, or --data)");
        Checkpoint.Header pretrained = Checkpoint.header(Path.of(c.model));
        GptConfig model = pretrained.config().withDropout(0f);
        java.util.Map<String, MemoryPlan> plans = new java.util.LinkedHashMap<>();
        plans.put("sft", sftPlan(model, c.sft, base.lora(null)));
        if (methods.contains(Method.PPO)) {
            require(c.rm.data, "the reward model needs rankings (rm.data, or --data)");
            require(c.ppo.prompts, "PPO needs prompts (ppo.prompts, or --prompts)");
            plans.put("rm", rmPlan(model, c.rm, responses(Path.of(c.rm.data)), base));
            plans.put("ppo", ppoPlan(model, model, pretrained.tokenizer(), RlhfData.prompts(Path.of(c.ppo.prompts)), c.ppo, base));
        }
        if (methods.contains(Method.DPO)) {
            require(c.dpoSettings().data, "DPO needs preference pairs (dpo.data or rm.data)");
            plans.put("dpo", dpoPlan(model, c.dpo, base));
        }
        if (methods.contains(Method.GRPO)) {
            require(c.grpoSettings().prompts, "GRPO needs prompts (grpo.prompts or ppo.prompts)");
            if (c.grpo.reward != null && !LABELER.equals(c.grpo.reward)) {
                throw new UserError("grpo.reward is \"" + LABELER + "\" or absent (the reward model this pipeline trains), not \"" + c.grpo.reward + "\"");
            }
            boolean rm = c.grpo.reward == null;
            if (rm && !methods.contains(Method.PPO)) {
                require(c.rm.data, "GRPO's reward model needs rankings (rm.data), or set grpo.reward to labeler");
                plans.put("rm", rmPlan(model, c.rm, responses(Path.of(c.rm.data)), base));
            }
            plans.put("grpo", grpoPlan(model, rm ? model : null, pretrained.tokenizer(), RlhfData.prompts(Path.of(c.grpo.prompts)), c.grpo, base));
        }
        return plans;
    }

    /** K of the reward model's batches: the most responses any ranking in {@code rankings} holds. */
    public static int responses(Path rankings) {
        return Math.max(2, RlhfData.comparisons(rankings).stream().mapToInt(r -> r.ranking().size()).max().orElse(2));
    }

    /** What {@link #rm}, {@link #ppo} and the commands advise when a plan does not fit. */
    public static String advice(Trainer.Options base) {
        return "use a smaller batch (--batch, --prompts, --pairs, --rollouts, --group)" + (base.recompute() ? "" : ", --recompute") + ", a smaller model, or --zero 1 "
                + "with more ranks";
    }

    static Gpt model(Checkpoint c) {
        return new Gpt(c.config().withDropout(0f), c.parameters());
    }

    static Tokenizer tokenizer(Checkpoint c) {
        if (c.tokenizer() == null) {
            throw new UserError("the model names no tokenizer, so texts cannot be encoded for it");
        }
        return c.tokenizer();
    }

    /** @param base the ranks to train with and the ZeRO stage ({@code Trainer.Options.defaults()}: one process) */
    static Trainer.Options options(Trainer.Options base, int batch, int context, int steps, float lr, int warmup, long seed) {
        // a run of unknown length (PPO) keeps a constant rate: steps = MAX_VALUE never reaches the cosine's end
        float minLr = steps == Integer.MAX_VALUE ? lr : lr / 10;
        return base.batch(batch).context(context).steps(steps).accumulation(1).lr(lr).minLr(minLr).warmup(warmup).weightDecay(0.01f).beta1(0.9f).beta2(0.95f).eps(1e-8f).gradClip(1f).seed(seed);
    }

    /** How many of n examples to hold out: the fraction, at least one when there are two or more. */
    static int heldOut(int n, float fraction) {
        return n < 2 ? 0 : Math.max(1, Math.round(n * fraction));
    }

    private static void require(String value, String message) {
        if (value == null) {
            throw new UserError(message);
        }
    }
}
