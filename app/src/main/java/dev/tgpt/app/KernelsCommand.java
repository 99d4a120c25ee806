package dev.tgpt.app;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.KernelChecks;
import dev.tgpt.engine.check.OpCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = { "Lists the ops, or with --check verifies every op's forward and backward kernels on a device against the plain "
                + "reference at a few shapes (odd ones included): one line per op, direction and shape. Exits 1 if any fails.",
                "This is how to verify a new device." })
final class KernelsCommand implements java.util.concurrent.Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Option(names = "--check", description = "Run the self-check.")
    boolean check;

    @Option(names = "--op", paramLabel = "NAME", split = ",", description = "Only these ops (comma-separated).")
    List<String> ops;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<OpCheck> selected = selected();
        if (!check) {
            out.println("ops: " + String.join(", ", selected.stream().map(OpCheck::op).toList()));
            out.println("./tgpt kernels --check [--device D] verifies them on a device.");
            out.flush();
            return 0;
        }
        Backend backend = device.backend();
        out.println("checking " + selected.size() + " ops on " + backend.info().id() + ": " + backend.info().name());
        out.flush();
        int failed = 0;
        int total = 0;
        for (OpCheck op : selected) {
            for (CheckResult r : op.run(backend)) {
                out.println(r.line());
                out.flush();
                total++;
                if (!r.pass()) {
                    failed++;
                }
            }
        }
        out.println(failed == 0 ? "all " + total + " checks passed on " + backend.info().id()
                : failed + " of " + total + " checks FAILED on " + backend.info().id());
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private List<OpCheck> selected() {
        List<OpCheck> all = KernelChecks.all();
        if (ops == null) {
            return all;
        }
        List<OpCheck> chosen = new ArrayList<>();
        for (String name : ops) {
            OpCheck found = all.stream().filter(o -> o.op().equals(name.trim())).findFirst().orElseThrow(() -> new UserError(
                    "no op '" + name + "'; the ops are: " + String.join(", ", all.stream().map(OpCheck::op).toList())));
            chosen.add(found);
        }
        return chosen;
    }
}
