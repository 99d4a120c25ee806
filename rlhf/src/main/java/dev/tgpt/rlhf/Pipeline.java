package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Tokenizer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.data.Comparison;
import dev.tgpt.rlhf.data.Demonstration;
import dev.tgpt.rlhf.data.RlhfData;

/**
 * The three steps from their settings: what {@code ./tgpt sft}, {@code rm}, {@code ppo} and {@code rlhf} run; each
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
        Sft.run(model(pretrained), tokenizer, all.subList(0, all.size() - held), all.subList(all.size() - held, all.size()), backend,
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
        return RewardModel.train(model(sft), tokenizer(sft), all.subList(0, all.size() - held), all.subList(all.size() - held, all.size()), demos,
                backend, new RewardModel.Settings(o, c.prompts, c.evalEvery, out), listener);
    }

    /**
     * PPO from the SFT model in {@code sftDir} (the policy, and a frozen copy as the reference) against the reward model
     * in {@code rmDir} (frozen, and a copy as the value model); pretraining text for PPO-ptx and the pretraining loss
     * (null: neither).
     */
    public static Ppo.Result ppo(Path sftDir, Path rmDir, RlhfConfig.Ppo c, Path pretrainText, Path out, Backend backend,
            Trainer.Options base, TrainingRun.Listener listener, Ppo.Judge judge) {
        require(c.prompts, "PPO needs prompts (ppo.prompts, or --prompts)");
        if (c.ptx > 0 && pretrainText == null) {
            throw new UserError("PPO-ptx (ptx > 0) needs pretraining text (pretrainData, or --pretrain-data)");
        }
        List<String> prompts = RlhfData.prompts(Path.of(c.prompts));
        Checkpoint policy = Checkpoint.load(sftDir);
        Checkpoint reference = Checkpoint.load(sftDir);
        Path backbone = TrainingRun.checkpointDir(rmDir);
        Checkpoint reward = Checkpoint.load(backbone);
        Checkpoint value = Checkpoint.load(backbone);
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
        Ppo ppo = new Ppo(model(policy), model(reference), model(reward), head, model(value), tokenizer, prompts, text == null ? null : text.train(),
                text == null ? null : text.val(), backend, s);
        try (ppo) {
            return ppo.run(judge, listener);
        }
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
