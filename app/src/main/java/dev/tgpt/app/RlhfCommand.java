package dev.tgpt.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.rlhf.Demo;
import dev.tgpt.rlhf.Dpo;
import dev.tgpt.rlhf.Method;
import dev.tgpt.rlhf.Pipeline;
import dev.tgpt.rlhf.RewardModel;
import dev.tgpt.rlhf.RlhfConfig;
import dev.tgpt.rlhf.data.RlhfData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rlhf", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "InstructGPT's pipeline: SFT, then a reward model on K-way rankings, then PPO (or PPO-ptx) against it, into OUT/sft, "
                + "OUT/rm and OUT/ppo; with --algo dpo, DPO on the rankings instead (OUT/dpo).",
                "--config FILE: a JSON file of the three steps' settings (see README); --demo tiny|shakespeare: the end-to-end demo with a "
                        + "programmatic labeler on Shakespeare, which writes its own data and OUT/report.json." })
final class RlhfCommand implements Callable<Integer> {

    static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    TrainingOptions training;

    @Mixin
    PlanOption plan;

    @Mixin
    LoraOption lora;

    @Option(names = "--config", paramLabel = "FILE", description = "The three steps' settings (JSON).")
    Path config;

    @Option(names = "--demo", paramLabel = "NAME", description = "tiny (pretrains its own small model; a few minutes) or shakespeare (on --init).")
    String demo;

    @Option(names = "--init", paramLabel = "DIR", description = "The demo's pretrained character model. Default: the main job's, runs/shakespeare/checkpoint.")
    Path init;

    @Option(names = "--corpus", paramLabel = "FILE", defaultValue = "data/tinyshakespeare.txt", description = "The demo's text. Default: ${DEFAULT-VALUE}.")
    Path corpus;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/rlhf", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--algo", paramLabel = "METHODS", defaultValue = "ppo",
            description = "After SFT: ppo (the reward model, then PPO; the demo adds PPO-ptx), dpo (on the reward model's data, no reward model), "
                    + "grpo (against the reward model, or grpo.reward = labeler), or several as ppo,dpo,grpo (the demo reports them side by side). "
                    + "Default: ${DEFAULT-VALUE}.")
    String algo;

    @Override
    public Integer call() {
        if ((config == null) == (demo == null)) {
            throw new UserError("give either --config FILE or --demo tiny|shakespeare");
        }
        if (Files.exists(out.resolve("sft"))) {
            throw new UserError(out + " already holds a run; choose another --out");
        }
        var methods = Method.parse(algo);
        RlhfConfig settings = demo == null ? read(config) : null;
        Path demoModel = "shakespeare".equals(demo) ? (init != null ? init : Path.of("runs/shakespeare/checkpoint")) : init;
        // every step's plan before the first runs: they run one after another, so each must fit on its own
        // with --lora every step after SFT trains adapters; SFT, the reference, trains every weight
        Trainer.Options base = lora.apply(training.options());
        var plans = settings != null ? Pipeline.plans(settings, methods, base) : Demo.plans(demo, demoModel, corpus, methods, base);
        plans.forEach((stage, p) -> plan.show(stage, p, device.backend(), Pipeline.advice(training.options())));
        if (plan.dryRun()) {
            return 0;
        }
        try (Progress.Stages progress = new Progress.Stages("rlhf", spec.commandLine().getErr())) {
            if (demo != null) {
                Map<String, Object> report = Demo.run(demo, demoModel, corpus, out, methods, base, device.backend(), progress);
                write(out.resolve("report.json"), report);
                progress.close();
                spec.commandLine().getOut().println(JSON.writeValueAsString(report));
            } else {
                RlhfConfig c = settings;
                var backend = device.backend();
                Path sft = Pipeline.sft(Checkpoint.load(Path.of(c.model)), c.sft, out.resolve("sft"), backend, training.options(), progress);
                StringBuilder summary = new StringBuilder();
                Path rmDir = null;
                boolean rmNeeded = methods.contains(Method.PPO) || methods.contains(Method.GRPO) && !Pipeline.LABELER.equals(c.grpo.reward);
                if (rmNeeded) {
                    RewardModel.Result rm = Pipeline.rm(Checkpoint.load(sft), c.rm, RlhfData.demonstrations(Path.of(c.sft.data)), out.resolve("rm"), backend,
                            base, progress);
                    rmDir = rm.dir();
                    summary.append(String.format("reward model: held-out accuracy %.3f%n", rm.valAccuracy()));
                }
                if (methods.contains(Method.PPO)) {
                    var ppo = Pipeline.ppo(sft, rmDir, c.ppo, c.pretrainData == null ? null : Path.of(c.pretrainData), out.resolve("ppo"), backend,
                            base, progress, null);
                    summary.append(String.format("PPO: reward %.3f, KL %.3f%npolicy: %s%n", ppo.reward(), ppo.kl(), ppo.checkpoint()));
                }
                if (methods.contains(Method.DPO)) {
                    Dpo.Result dpo = Pipeline.dpo(Checkpoint.load(sft), c.dpoSettings(), out.resolve("dpo"), backend, base, progress);
                    summary.append(String.format("DPO: held-out preference accuracy %.3f%npolicy: %s%n", dpo.valAccuracy(), dpo.checkpoint()));
                }
                if (methods.contains(Method.GRPO)) {
                    var grpo = Pipeline.grpo(sft, rmNeeded ? rmDir.toString() : Pipeline.LABELER, c.grpoSettings(), out.resolve("grpo"), backend,
                            base, progress, null);
                    summary.append(String.format("GRPO: reward %.3f, KL %.3f%npolicy: %s%n", grpo.reward(), grpo.kl(), grpo.checkpoint()));
                }
                progress.close();
                spec.commandLine().getOut().print(summary);
            }
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    static RlhfConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError("no config file " + file);
        }
        try {
            return JSON.readValue(file.toFile(), RlhfConfig.class);
        } catch (JacksonException e) {
            throw new UserError(file + ": " + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, Object value) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, JSON.writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
