package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Grpo;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.RlhfConfig;
import dev.tgpt.rlhf.data.RlhfData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "grpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "GRPO (DeepSeekMath; TRL's GRPOTrainer): PPO without a value model. G responses to each prompt, each response's "
                + "advantage its reward relative to its group's, PPO's clipped objective plus β·KL to the SFT policy per token (or the KL "
                + "in the reward with --kl-in-reward).",
                "Prompts: JSONL, one {\"prompt\": ...} per line. Writes OUT/metrics.jsonl (reward, reward_std, kl, entropy, clipfrac, resp_len "
                        + "per iteration) and OUT/checkpoint (the policy)." })
final class GrpoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    TrainingOptions training;

    @Mixin
    LoraOption lora;

    @Mixin
    PlanOption plan;

    @Option(names = "--sft", paramLabel = "DIR", required = true, description = "The SFT checkpoint: the starting policy and the frozen reference.")
    Path sft;

    @Option(names = "--reward", paramLabel = "DIR|labeler", required = true,
            description = "A reward model's directory (./tgpt rm's OUT), or labeler: the demo's programmatic labeler as a reward function.")
    String reward;

    @Option(names = "--prompts", paramLabel = "FILE", required = true, description = "Prompts (JSONL).")
    Path prompts;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/grpo", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--iterations", defaultValue = "40", description = "Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--group", defaultValue = "4", description = "Responses sampled per prompt (G, at least 2). Default: ${DEFAULT-VALUE}.")
    int group;

    @Option(names = "--prompts-per-iteration", defaultValue = "8", description = "Prompts per iteration (on each rank). Default: ${DEFAULT-VALUE}.")
    int promptsPerIteration;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences per micro-batch (memory, not the objective). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--epochs", defaultValue = "1", description = "Optimizer steps over each iteration's responses (TRL's μ). Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--max-response", defaultValue = "40", description = "Tokens a response may have. Default: ${DEFAULT-VALUE}.")
    int maxResponse;

    @Option(names = "--lr", defaultValue = "2e-5", description = "Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--beta", defaultValue = "0.04", description = "The KL penalty's β. Default: ${DEFAULT-VALUE}.")
    float beta;

    @Option(names = "--kl-in-reward", description = "Subtract β·KL(response) from its reward instead of adding the penalty to the loss.")
    boolean klInReward;

    @Option(names = "--clip", defaultValue = "0.2", description = "PPO's ε. Default: ${DEFAULT-VALUE}.")
    float clip;

    @Option(names = "--seed", defaultValue = "5", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (iterations < 1 || promptsPerIteration < 1 || batch < 1 || epochs < 1 || maxResponse < 1) {
            throw new UserError("--iterations, --prompts-per-iteration, --batch, --epochs and --max-response must be at least 1");
        }
        if (group < 2) {
            throw new UserError("--group must be at least 2: advantages are relative to the other responses to the same prompt");
        }
        if (!(beta >= 0) || Float.isInfinite(beta)) {
            throw new UserError("--beta must be 0 or more, not " + beta);
        }
        if (Files.exists(out.resolve("checkpoint"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        boolean byModel = !reward.equals(Pipeline.LABELER);
        if (byModel && !Files.isDirectory(Path.of(reward))) {
            throw new UserError("--reward " + reward + ": no such reward model directory (or give labeler)");
        }
        RlhfConfig.Grpo c = new RlhfConfig.Grpo();
        c.prompts = prompts.toString();
        c.reward = reward;
        c.iterations = iterations;
        c.promptsPerIteration = promptsPerIteration;
        c.group = group;
        c.batch = batch;
        c.epochs = epochs;
        c.maxResponse = maxResponse;
        c.lr = lr;
        c.beta = beta;
        c.klInReward = klInReward;
        c.clip = clip;
        c.seed = seed;
        Checkpoint.Header policy = Checkpoint.header(sft);
        Trainer.Options base = lora.apply(training.options());
        plan.show("", Pipeline.grpoPlan(policy.config().withDropout(0f),
                byModel ? Checkpoint.header(TrainingRun.checkpointDir(Path.of(reward))).config().withDropout(0f) : null, policy.tokenizer(),
                RlhfData.prompts(prompts), c, base), device.backend(), Pipeline.advice(base));
        if (plan.dryRun()) {
            return 0;
        }
        Grpo.Result r;
        try (Progress.Stages progress = new Progress.Stages("grpo", spec.commandLine().getErr())) {
            r = Pipeline.grpo(sft, reward, c, out, device.backend(), base, progress, null);
        }
        spec.commandLine().getOut().printf("reward %.3f, KL %.3f%npolicy: %s%n", r.reward(), r.kl(), r.checkpoint());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
