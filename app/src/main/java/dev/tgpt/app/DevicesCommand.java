package dev.tgpt.app;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.DeviceInfo;
import dev.tgpt.engine.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = { "Lists every device this program can use, with the id that --device takes.",
                "The JVM backend shows its threads and SIMD width; each TornadoVM device its backend, memory and compute units.",
                "--device auto picks the first TornadoVM GPU, else jvm." })
final class DevicesCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<Backend> all = Devices.all();
        String fmt = "%-5s %-8s %-5s %10s %10s %6s  %s%n";
        out.printf(fmt, "ID", "BACKEND", "TYPE", "MEMORY", "MAX BUFFER", "UNITS", "NAME");
        for (Backend b : all) {
            DeviceInfo d = b.info();
            String name = d.simdFloats() > 0 ? d.name() + ", SIMD " + d.simdFloats() + " floats (" + d.simdFloats() * 32 + "-bit)" : d.name();
            out.printf(fmt, d.id(), d.backend(), d.type(), gib(d.memoryBytes()), gib(d.maxAllocationBytes()), d.computeUnits(), name);
        }
        out.println(BuildMode.describe());
        out.println("auto -> " + Devices.select("auto").info().id());
        out.flush();
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
