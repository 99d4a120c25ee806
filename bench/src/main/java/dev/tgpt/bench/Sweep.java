package dev.tgpt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.DeviceInfo;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.TornadoVmBackend;
import dev.tgpt.engine.UserError;

/**
 * {@code ./tgpt bench}: kernels × sizes × devices, then the model figures, then the references on the same cases
 * (OpenBLAS, PyTorch on the CPU and on a CUDA GPU when there is one, llm.c's trainer when given), one after another so
 * that no two timings share the cores; then results.json, results.csv and the report.
 */
public final class Sweep {

    /**
     * @param python the Python with PyTorch; null: no PyTorch
     * @param llmc   train_gpt2 binaries built by the user from llm.c (with different flags, say); empty: no llm.c
     * @param ops    kernels (op or op.direction names) and model cases (names) to time; empty: all
     */
    public record Options(List<Backend> devices, Sizes sizes, Path out, List<String> ops, boolean models, boolean openblas, String python,
            List<Path> llmc) {
    }

    /**
     * Which shapes: QUICK, two small sizes a kernel (a few minutes on the JVM backend); FULL, this machine's sweep;
     * GPU, the shapes of a data-centre GPU's comparison (issue 19: matmul at 4096³, GPT-2's layer norm, softmax and
     * attention at B = 8, T = 1,024, sparse attention at T = 4,096 and 16,384, GPT-2's training step at B = 8, T = 1,024),
     * timed with the quick protocol (a GPU settles in a few runs; the device's time is short).
     */
    public enum Sizes {
        QUICK, FULL, GPU
    }

    /** What the sweep produced, and what it could not do (a reference missing, a case failing on a device). */
    public record Outcome(List<Result> results, List<String> skipped, Peaks hostPeaks) {
    }

    private Sweep() {
    }

    public static Outcome run(Options o, Consumer<String> log) throws IOException, InterruptedException {
        Files.createDirectories(o.out());
        Protocol protocol = o.sizes() == Sizes.FULL ? Protocol.FULL : Protocol.QUICK;
        JvmBackend host = new JvmBackend();
        log.accept("measuring this CPU's peaks (FMA loop, STREAM copy) ...");
        Peaks hostPeaks = HostPeaks.measure(host);
        log.accept(hostPeaks.source());
        List<Case> models = !o.models() ? List.of() : o.sizes() == Sizes.GPU ? ModelCases.gpu() : ModelCases.cases(o.sizes() == Sizes.QUICK);
        List<Case> kernels = o.sizes() == Sizes.GPU ? KernelCases.gpu() : KernelCases.all(o.sizes() == Sizes.QUICK);
        if (!o.ops().isEmpty()) {
            // --op names kernels (op or op.direction) and model cases alike
            List<Case> namedModels = models.stream().filter(c -> o.ops().contains(c.name())).toList();
            kernels = namedModels.isEmpty() ? KernelCases.select(kernels, o.ops())
                    : kernels.stream().filter(c -> o.ops().contains(c.op()) || o.ops().contains(c.name())).toList();
            models = namedModels;
        }
        List<Result> results = new ArrayList<>();
        List<String> skipped = new ArrayList<>();

        boolean gpu = false;
        for (Backend b : o.devices()) {
            DeviceInfo d = b.info();
            Peaks peaks = d.type().equals("GPU") ? Peaks.known(d.name()) : hostPeaks;
            gpu |= d.type().equals("GPU");
            for (Case c : kernels) {
                log.accept(String.format(Locale.ROOT, "tgpt on %s: %s %s", d.id(), c.name(), c.shape()));
                try {
                    results.add(timeKernel(b, c, protocol, peaks));
                } catch (RuntimeException e) {
                    skipped.add("tgpt on " + d.id() + ": " + c.name() + " " + c.shape() + " failed: " + e.getMessage());
                    log.accept("  failed: " + e);
                }
            }
            if (!models.isEmpty()) {
                log.accept("tgpt on " + d.id() + ": model figures");
                results.addAll(ModelCases.run(b, models, protocol, peaks, log));
            }
        }

        List<Case> matmuls = kernels.stream().filter(c -> c.op().equals("matmul")).toList();
        if (o.openblas() && !matmuls.isEmpty()) {
            try {
                results.addAll(Blas.run(OpenBlas.load(), matmuls, host.threads(), protocol, hostPeaks, log));
            } catch (UserError e) {
                skipped.add("OpenBLAS: " + e.getMessage());
            }
        }
        if (o.python() != null) {
            List<Case> all = new ArrayList<>(kernels);
            all.addAll(models);
            String why = Torch.unavailable(o.python());
            if (why != null) {
                skipped.add("PyTorch: " + why + " (Debian/Ubuntu: apt-get install python3-torch; or name a Python with --python)");
            } else {
                Thread.sleep(250); // OpenBLAS's threads spin for a while after their last call
                results.addAll(Torch.run(o.python(), all, "cpu", host.threads(), protocol, hostPeaks, o.out(), log));
                if (gpu) {
                    String cuda = Torch.cudaUnavailable(o.python());
                    if (cuda == null) {
                        results.addAll(Torch.run(o.python(), all, "cuda", host.threads(), protocol, Peaks.UNKNOWN, o.out(), log));
                    } else {
                        skipped.add("PyTorch on the GPU: " + cuda);
                    }
                }
            }
        }
        if (!models.isEmpty()) {
            for (Path binary : o.llmc()) {
                results.add(ModelCases.llmc(binary, host.threads(), hostPeaks, log));
            }
        }
        return new Outcome(results, skipped, hostPeaks);
    }

    /**
     * One kernel case on one device: its program run under the protocol. TornadoVM's profiler gives the first run's
     * compile time and, per timed run, kernel and copy times (their medians are reported).
     */
    static Result timeKernel(Backend b, Case c, Protocol protocol, Peaks peaks) {
        KernelCases.KernelRun k = KernelCases.build(c, 1);
        Program p = k.program();
        try (Session s = b.open(p)) {
            s.run(p);
            Session.Profile first = s.profile();
            List<Session.Profile> profiles = new ArrayList<>();
            double[] ms = protocol.time(() -> {
                s.run(p);
                profiles.add(s.profile());
            });
            DeviceInfo d = b.info();
            if (!(b instanceof TornadoVmBackend)) {
                return Result.of(c, "tgpt", d.id(), d.name(), Stats.of(ms), peaks, "");
            }
            // the protocol's warm-up runs come first: the last ms.length profiles are the timed runs'
            List<Session.Profile> timed = profiles.subList(profiles.size() - ms.length, profiles.size());
            return Result.of(c, "tgpt", d.id(), d.name(), Stats.of(ms), peaks, first.compileNanos() / 1e6,
                    medianMs(timed, Session.Profile::kernelNanos), medianMs(timed, Session.Profile::transferNanos), "");
        }
    }

    private static double medianMs(List<Session.Profile> profiles, java.util.function.ToLongFunction<Session.Profile> f) {
        return Stats.of(profiles.stream().mapToDouble(p -> f.applyAsLong(p) / 1e6).toArray()).medianMs();
    }
}
