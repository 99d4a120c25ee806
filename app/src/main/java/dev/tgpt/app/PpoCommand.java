package dev.tgpt.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.Ppo;
import dev.tgpt.rlhf.RlhfConfig;
import dev.tgpt.rlhf.data.RlhfData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ppo", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "InstructGPT's step 3: PPO against a frozen reward model, with a per-token KL penalty to the SFT policy (fixed β, or "
                + "the adaptive controller with --target-kl), GAE, clipped policy and value losses; PPO-ptx with --ptx γ.",
                "Prompts: JSONL, one {\"prompt\": ...} per line. Writes OUT/metrics.jsonl (reward, kl, entropy, clipfrac, approx_kl, value_loss, "
                        + "explained_var, resp_len per iteration) and OUT/checkpoint (the policy)." })
final class PpoCommand implements Callable<Integer> {

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

    @Option(names = "--rm", paramLabel = "DIR", required = true, description = "The reward model's directory (./tgpt rm's OUT); also the value model's start.")
    Path rm;

    @Option(names = "--prompts", paramLabel = "FILE", required = true, description = "Prompts (JSONL).")
    Path prompts;

    @Option(names = "--pretrain-data", paramLabel = "FILE", description = "Pretraining text: PPO-ptx's data and the logged pretrain_loss.")
    Path pretrainData;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/ppo", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--iterations", defaultValue = "40", description = "Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--rollouts", defaultValue = "32", description = "Responses sampled per iteration. Default: ${DEFAULT-VALUE}.")
    int rollouts;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences per minibatch update. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--epochs", defaultValue = "2", description = "Passes over each iteration's rollouts (1–2 were stable here, 4 collapsed the entropy; see README). Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--max-response", defaultValue = "40", description = "Tokens a response may have. Default: ${DEFAULT-VALUE}.")
    int maxResponse;

    @Option(names = "--lr", defaultValue = "2e-5", description = "The policy's learning rate. Default: ${DEFAULT-VALUE}.")
    float lr;

    @Option(names = "--value-lr", defaultValue = "1e-4", description = "Default: ${DEFAULT-VALUE}.")
    float valueLr;

    @Option(names = "--beta", defaultValue = "0.05", description = "The KL penalty's β (the adaptive controller's start). Default: ${DEFAULT-VALUE}.")
    float beta;

    @Option(names = "--target-kl", description = "Use Ziegler et al.'s adaptive KL controller with this target.")
    Float targetKl;

    @Option(names = "--horizon", defaultValue = "10000",
            description = "The adaptive controller's horizon in rollouts (Ziegler et al.: 10000); β moves by up to 20%% × rollouts / horizon an iteration. "
                    + "Default: ${DEFAULT-VALUE}.")
    int horizon;

    @Option(names = "--ptx", defaultValue = "0", description = "γ of PPO-ptx (needs --pretrain-data); 0: plain PPO. Default: ${DEFAULT-VALUE}.")
    float ptx;

    @Option(names = "--seed", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (iterations < 1 || rollouts < 1 || batch < 1 || epochs < 1 || maxResponse < 1 || horizon < 1) {
            throw new UserError("--iterations, --rollouts, --batch, --epochs, --max-response and --horizon must be at least 1");
        }
        if (Files.exists(out.resolve("checkpoint"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        RlhfConfig.Ppo c = new RlhfConfig.Ppo();
        c.prompts = prompts.toString();
        c.iterations = iterations;
        c.rollouts = rollouts;
        c.batch = batch;
        c.epochs = epochs;
        c.maxResponse = maxResponse;
        c.lr = lr;
        c.valueLr = valueLr;
        c.beta = beta;
        c.targetKl = targetKl;
        c.horizon = horizon;
        c.ptx = ptx;
        c.seed = seed;
        Checkpoint.Header policy = Checkpoint.header(sft);
        Trainer.Options base = lora.apply(training.options());
        plan.show("", Pipeline.ppoPlan(policy.config().withDropout(0f), Checkpoint.header(TrainingRun.checkpointDir(rm)).config().withDropout(0f),
                policy.tokenizer(), RlhfData.prompts(prompts), c, base), device.backend(), Pipeline.advice(base));
        if (plan.dryRun()) {
            return 0;
        }
        Ppo.Result r;
        try (Progress.Stages progress = new Progress.Stages("ppo", spec.commandLine().getErr())) {
            r = Pipeline.ppo(sft, rm, c, pretrainData, out, device.backend(), base, progress, null);
        }
        spec.commandLine().getOut().printf("reward %.3f, KL %.3f%npolicy: %s%n", r.reward(), r.kl(), r.checkpoint());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
