package dev.tgpt.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tgpt.bench.Report;
import dev.tgpt.bench.Sweep;
import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Devices;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Times every kernel (forward and backward) over sizes on each device, then the model figures (training step, "
                + "decoding, a PPO iteration), then the same cases in OpenBLAS (matmul), PyTorch (CPU, and the GPU when there is one) and "
                + "llm.c's CPU trainer (with --llmc); writes DIR/results.json, results.csv, report.md, report.html and plots/.",
                "Each case: warm-up runs, then timed runs; the median, quartiles and extremes are kept." })
final class BenchCommand implements java.util.concurrent.Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--device", paramLabel = "D", split = ",",
            description = "Devices to time (repeatable, or comma-separated): jvm or N:M. Default: every device ./tgpt devices lists (in JVM mode: jvm).")
    List<String> devices;

    @Option(names = "--quick", description = "Two small sizes per kernel and short timing: a few minutes on the JVM backend.")
    boolean quick;

    @Option(names = "--gpu-sizes", description = "A data-centre GPU's shapes instead (matmul at 4096³; GPT-2's layer norm, softmax and attention at "
            + "B = 8, T = 1,024; sparse attention at T = 4,096 and 16,384; GPT-2's training step at B = 8, T = 1,024), short timing.")
    boolean gpuSizes;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/bench", description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--op", paramLabel = "NAME", split = ",", description = "Only these kernels (op or op.direction) or model cases (decode, read_weights, train_step, ...), comma-separated.")
    List<String> ops = new ArrayList<>();

    @Option(names = "--no-models", description = "Kernels only: no training step, decoding or PPO iteration.")
    boolean noModels;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "python3",
            description = "The Python whose PyTorch is timed beside ours; 'none' to skip PyTorch. Default: ${DEFAULT-VALUE}.")
    String python;

    @Option(names = "--no-openblas", description = "Do not time OpenBLAS's sgemm beside our matmul.")
    boolean noOpenblas;

    @Option(names = "--llmc", paramLabel = "BINARY",
            description = "A train_gpt2 binary you built from llm.c (gcc -O3 -fopenmp train_gpt2.c -lm): its training step is timed on the same "
                    + "model. Repeatable (builds with other flags side by side).")
    List<Path> llmc = new ArrayList<>();

    /** The devices being timed, for the launcher's messages about a device that failed. */
    final List<Backend> backends = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter log = spec.commandLine().getErr();
        if (devices == null || devices.isEmpty()) {
            backends.addAll(BuildMode.sdk() ? Devices.all() : List.of(new JvmBackend()));
        } else {
            devices.forEach(d -> backends.add(Devices.select(d)));
        }
        if (backends.stream().anyMatch(DeviceOption::isEmulator)) {
            throw new UserError("in JVM mode device 0:0 is tornado-jvm's emulator, for tests, not speed: time jvm, or a real device in SDK mode "
                    + "(source tornado-env.sh)");
        }
        if (!llmc.isEmpty() && noModels) {
            throw new UserError("--llmc times the training step, which --no-models leaves out");
        }
        if (quick && gpuSizes) {
            throw new UserError("--quick and --gpu-sizes each pick the shapes: give one");
        }
        Sweep.Sizes sizes = gpuSizes ? Sweep.Sizes.GPU : quick ? Sweep.Sizes.QUICK : Sweep.Sizes.FULL;
        Sweep.Options o = new Sweep.Options(backends, sizes, out, ops, !noModels, !noOpenblas, python.equals("none") ? null : python, llmc);
        Sweep.Outcome outcome = Sweep.run(o, line -> {
            log.println(line);
            log.flush();
        });
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cpu", dev.tgpt.bench.HostPeaks.cpu());
        machine.put("threads", new JvmBackend().threads());
        machine.put("java", Runtime.version().toString());
        machine.put("devices", backends.stream().map(b -> b.info().id() + " " + b.info().name()).toList());
        machine.put("mode", sizes.name().toLowerCase(java.util.Locale.ROOT));
        String md = Report.write(out, outcome, machine);
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.println(md);
        stdout.println("wrote " + out.resolve("results.json") + ", results.csv, report.md, report.html and plots/");
        stdout.flush();
        return 0;
    }
}
