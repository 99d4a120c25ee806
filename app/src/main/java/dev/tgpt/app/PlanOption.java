package dev.tgpt.app;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.gpt.MemoryPlan;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The memory plan of every command that allocates: computed before anything is, shown as the run's {@code memory:}
 * line, refused in one line when it does not fit, and printed alone by --dry-run.
 */
final class PlanOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--dry-run", description = "Print the memory plan (weights, gradients, optimizer moments, activations, KV caches) and what "
            + "the device may hold, then exit.")
    boolean dryRun;

    /**
     * Shows {@code plan} (of {@code stage}: "" for the whole run): on stdout under --dry-run; otherwise checks it (exit 2
     * with {@code advice} when it does not fit, before anything is allocated) and shows it on stderr.
     */
    void show(String stage, MemoryPlan plan, Backend backend, String advice) {
        String name = stage.isEmpty() ? "" : stage + ": ";
        if (dryRun) {
            long device = backend instanceof JvmBackend ? Long.MAX_VALUE : backend.info().memoryBytes();
            spec.commandLine().getOut().println(name + "memory plan on " + backend.info().id() + ": " + plan.describe() + "; it may use "
                    + MemoryPlan.size(Math.min(JvmBackend.maxTensorMemory(), device > 0 ? device : Long.MAX_VALUE)));
            spec.commandLine().getOut().flush();
            return;
        }
        plan.check(backend, advice);
        if (!Progress.quiet) { // rank 0 speaks for all
            spec.commandLine().getErr().println(name + "memory: " + plan.describe());
            spec.commandLine().getErr().flush();
        }
    }

    /** Whether the command stops after showing its plans. */
    boolean dryRun() {
        return dryRun;
    }
}
