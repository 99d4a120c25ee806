package dev.tgpt.app;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Gradients;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.io.Checkpoint;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "grads", mixinStandardHelpOptions = true,
        description = { "One forward and backward pass, dropout off, for checking the engine against another implementation (as llm.c's "
                + "test_gpt2 does).", "OUT holds logits [B,T,V], loss [1] (mean cross-entropy against targets) and grad.<HF name> for every "
                        + "parameter, in Hugging Face's layouts, all float32." })
final class GradsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    PlanOption plan;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A Hugging Face GPT-2 directory (or a tgpt checkpoint).")
    Path model;

    @Option(names = "--batch", paramLabel = "IN", required = true, description = "safetensors with input_ids and targets, int32 [B,T].")
    Path batch;

    @Option(names = "--out", paramLabel = "OUT", required = true, description = "The safetensors file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        int B;
        int T;
        int[] inputs;
        int[] targets;
        try (Safetensors in = Safetensors.open(batch)) {
            long[] shape = in.tensor("input_ids").shape();
            if (shape.length != 2 || !java.util.Arrays.equals(shape, in.tensor("targets").shape())) {
                throw new UserError(batch + ": input_ids and targets must both be [B, T]");
            }
            B = (int) shape[0];
            T = (int) shape[1];
            inputs = in.ints("input_ids").toHeapArray();
            targets = in.ints("targets").toHeapArray();
        }
        GptConfig config = Checkpoint.header(model).config();
        if (T > config.context()) {
            throw new UserError(batch + ": its " + T + " positions exceed the model's context of " + config.context());
        }
        plan.show("", MemoryPlan.gradients(config, B, T), device.backend(), "use a smaller batch (fewer or shorter rows in " + batch
                + "), or a smaller model");
        if (plan.dryRun()) {
            return 0;
        }
        Checkpoint ckpt = Checkpoint.load(model);
        Gradients.Result r = Gradients.compute(ckpt.config(), ckpt.parameters(), device.backend(), inputs, targets, B, T);
        Map<String, Safetensors.Entry> tensors = new LinkedHashMap<>();
        tensors.put("logits", new Safetensors.Entry(new long[] { B, T, ckpt.config().vocabSize() }, r.logits()));
        tensors.put("loss", new Safetensors.Entry(new long[] { 1 }, FloatArray.fromArray(new float[] { r.loss() })));
        tensors.putAll(Checkpoint.hfTensors(r.grads(), "grad."));
        Safetensors.write(out, tensors, Map.of());
        spec.commandLine().getOut().printf("loss %.6f; wrote %s%n", r.loss(), out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
