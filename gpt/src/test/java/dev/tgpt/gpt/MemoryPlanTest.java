package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;

/**
 * The memory plan against what a training run really allocates: the JVM's direct-memory pool (where every tensor's
 * off-heap memory is reserved) before and after opening a trainer and a sampler (its decoder and prefill). Within 5%, as the issue asks; the
 * plan leaves out only small things (GradNorm's partials, AdamW's hyperparameters, a head).
 */
class MemoryPlanTest {

    void planMatchesWhatIsAllocated(GptConfig c, Trainer.Options o) {
        MemoryPlan plan = MemoryPlan.training(c, o, true, 0);
        long before = MemoryPlan.heldAfterCollection();
        Parameters p = new Parameters(c);
        Gpt model = new Gpt(c, p).trainedAs(o);
        try (Trainer t = new Trainer(model, new JvmBackend(1), o); Sampler s = new Sampler(model, new JvmBackend(1), 1)) {
            long used = MemoryPlan.held() - before;
            double error = Math.abs(used - plan.total()) / (double) used;
            assertTrue(error < 0.05, "planned " + plan.describe() + ", allocated " + used + " bytes: " + error);
            assertTrue(s.free() == 1 && t.step() == 0);
        }
    }

    @Test
    void gpt2ShapedAndGpt3Banded() {
        planMatchesWhatIsAllocated(new GptConfig(GptConfig.Style.GPT2, 65, 64, 4, 4, 128, 0.1f, 0),
                Trainer.Options.defaults().batch(8).context(64));
        planMatchesWhatIsAllocated(new GptConfig(GptConfig.Style.GPT3, 500, 128, 3, 4, 64, 0f, 16),
                Trainer.Options.defaults().batch(2).context(128).zero(1));
    }

    @Test
    void withRecomputation() {
        planMatchesWhatIsAllocated(new GptConfig(GptConfig.Style.GPT3, 65, 128, 4, 4, 64, 0.1f, 16),
                Trainer.Options.defaults().batch(4).context(128).recompute(true));
    }

    /** LoRA: the adapters, their gradients and moments instead of the weights' gradients and moments. */
    @Test
    void withLoraAdapters() {
        planMatchesWhatIsAllocated(new GptConfig(GptConfig.Style.GPT2, 65, 64, 4, 4, 128, 0f, 0),
                Trainer.Options.defaults().batch(8).context(64).lora(new Lora.Settings(4, 8f, java.util.EnumSet.allOf(Lora.Target.class))));
    }

    @Test
    void gpt2Xl15bDoesNotFitTwentyGiB() {
        // weights, gradients and AdamW's moments alone: 4 × 4 bytes × 1.56 billion parameters ≈ 23 GiB
        MemoryPlan plan = MemoryPlan.training(GptConfig.preset("gpt2-1.5b").withVocabSize(50257), Trainer.Options.defaults().batch(1).context(64),
                false, 0);
        assertTrue(plan.total() > 23L << 30, plan.describe());
        assertEquals("weights", plan.parts().keySet().iterator().next());
        if (JvmBackend.maxTensorMemory() < plan.total()) {
            UserError e = assertThrows(UserError.class, () -> plan.check(new JvmBackend(1), "use a smaller model"));
            assertTrue(e.getMessage().startsWith("this run needs ") && e.getMessage().contains("use a smaller model"), e.getMessage());
        }
    }

    @Test
    void aTrainerThatWouldNotFitIsRefusedBeforeItAllocates() {
        GptConfig c = new GptConfig(GptConfig.Style.GPT2, 50257, 1024, 1, 12, 768, 0f, 0);
        Parameters p = new Parameters(c);
        long free = JvmBackend.maxTensorMemory() - MemoryPlan.held();
        // a sequence's logits and their gradient alone take 2 × 4 × 1024 × 50257 bytes; 40 keeps B·T·V an int
        int batch = (int) Math.min(40, free / (8L * 1024 * 50257) + 1);
        Trainer.Options o = Trainer.Options.defaults().batch(batch).context(1024);
        Assumptions.assumeTrue(MemoryPlan.trainer(c, o).total() > free, "this JVM may hold more than batch 40 needs");
        long before = MemoryPlan.held();
        UserError e = assertThrows(UserError.class, () -> new Trainer(new Gpt(c, p), new JvmBackend(1), o));
        assertTrue(e.getMessage().startsWith("training needs ") && e.getMessage().contains("left for tensors"), e.getMessage());
        assertTrue(MemoryPlan.held() - before < 1 << 20, "allocated before refusing: " + (MemoryPlan.held() - before));
    }

    /** One array over what a device allocates at once (the JVM backend: 2³¹−1 floats) is refused, naming it. */
    @Test
    void anArrayOverTheDevicesLargestBuffer() {
        MemoryPlan plan = new MemoryPlan(java.util.Map.of()).with("activations", 9L << 30).array("the largest of the activations' arrays", 9L << 30);
        UserError e = assertThrows(UserError.class, () -> plan.check(new JvmBackend(1), "use a smaller --batch"));
        assertEquals("this run needs one array of 9.0 GiB (the largest of the activations' arrays) and device jvm allocates at most 8.0 GiB at once: "
                + "use a smaller --batch", e.getMessage());
        // GPT-2 124M at B = 8, T = 1024: the logits, 8·1024·50257 floats, are the largest array
        MemoryPlan gpt2 = MemoryPlan.training(GptConfig.preset("gpt2-124m").withVocabSize(50257), Trainer.Options.defaults().batch(8).context(1024), false, 0);
        assertEquals(4L * 8 * 1024 * 50257, gpt2.largest().getValue(), gpt2.largest().getKey());
    }

    /** On a TornadoVM device (the emulated 0:0 in JVM mode) a plan over TornadoVM's per-program cap is refused, naming it. */
    @Test
    void tornadoVmsCapOnAProgramsDeviceMemory() {
        assertEquals(4L << 30, MemoryPlan.bytes("4GB"));
        assertEquals(512L << 20, MemoryPlan.bytes("512MB"));
        var device = dev.tgpt.engine.Devices.select(System.getProperty("tgpt.device", "0:0"));
        MemoryPlan plan = new MemoryPlan(java.util.Map.of("activations", 3L << 20));
        String previous = System.setProperty(MemoryPlan.TORNADO_CAP, "2MB");
        try {
            UserError e = assertThrows(UserError.class, () -> plan.check(device, "use a smaller --batch"));
            assertTrue(e.getMessage().contains("TornadoVM lets a program use 2MB of device ") && e.getMessage().contains("-Dtornado.device.memory="),
                    e.getMessage());
        } finally {
            if (previous == null) {
                System.clearProperty(MemoryPlan.TORNADO_CAP);
            } else {
                System.setProperty(MemoryPlan.TORNADO_CAP, previous);
            }
        }
        plan.check(device, "use a smaller --batch"); // 3 MiB under the default 4GB
    }
}
