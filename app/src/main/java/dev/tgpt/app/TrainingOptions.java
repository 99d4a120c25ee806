package dev.tgpt.app;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.engine.dist.NcclCollective;
import dev.tgpt.engine.dist.Ranks;
import dev.tgpt.gpt.Trainer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that trains shares: data parallelism (the ranks come from the environment, {@code mpirun -np N
 * ./tgpt train ...} or Slurm's srun; --zero picks ZeRO's stage; ranks started with different options, data or code
 * are refused at the start) and activation recomputation.
 */
final class TrainingOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--zero", paramLabel = "STAGE", defaultValue = "0",
            description = "ZeRO stage under mpirun: 0 (each rank keeps all of AdamW's moments) or 1 (each keeps 1/ranks of them). Default: ${DEFAULT-VALUE}.")
    int zero;

    /** When to exchange gradients during the backward pass. */
    enum Overlap {
        auto, on, off
    }

    @Option(names = "--overlap", paramLabel = "auto|on|off", defaultValue = "auto",
            description = "Under mpirun, exchange each layer's gradients while the backward pass computes the layers below it: on, off, "
                    + "or auto, on when the ranks run on several machines (over shared memory the exchange's copies take the cores the "
                    + "backward needs); with NCCL (see --collective), on a stream of NCCL's own beside the device's. Default: ${DEFAULT-VALUE}.")
    Overlap overlap;

    @Option(names = "--collective", paramLabel = "auto|nccl|host", defaultValue = "auto",
            description = "Under mpirun, how the ranks sum gradients: nccl (on the GPUs, TornadoVM's CUDA backend), host (through MPI, any "
                    + "device), or auto: nccl where every rank can use it. Default: ${DEFAULT-VALUE}.")
    NcclCollective.Mode collective;

    @Option(names = "--recompute", description = "Keep fewer activations (GELU's output, attention's probabilities) and recompute them "
            + "in the backward pass: less memory, a slower step, the same results.")
    boolean recompute;

    private Trainer.Options options;

    /** Trainer options with this run's ranks, ZeRO stage and recomputation (the rest at their defaults, for the command to set). */
    Trainer.Options options() {
        if (options == null) {
            Collective world = Ranks.fromEnvironment();
            if (world.size() > 1) {
                sameEverywhere(world, fingerprint(spec.commandLine().getParseResult().originalArgs()));
            }
            options = Trainer.Options.defaults().world(world).zero(zero).recompute(recompute).collective(collective)
                    .overlap(world.size() > 1 && (overlap == Overlap.on || overlap == Overlap.auto && spansMachines(world)));
        }
        return options;
    }

    /** Every rank must run the same command on the same data with the same code: rank 0's fingerprint is the reference. */
    static void sameEverywhere(Collective world, byte[] mine) {
        int differ = world.differingFromRankZero(mine);
        if (differ > 0) {
            throw new UserError(String.format("%d of the %d ranks were started with other options, data or code than rank 0 (this rank's "
                    + "fingerprint %s): start every rank with the same command, files and tgpt build", differ, world.size(),
                    HexFormat.of().formatHex(mine, 0, 6)));
        }
    }

    /** Whether some rank runs on another machine than rank 0 (host names compared as hashes: one length everywhere). */
    static boolean spansMachines(Collective world) {
        try {
            byte[] host = MessageDigest.getInstance("SHA-256").digest(hostName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return world.differingFromRankZero(host) > 0;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The kernel's host name on Linux (no name lookup, which can stall where the name does not resolve); else Java's. */
    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException u) {
                return "";
            }
        }
    }

    /** SHA-256 of the arguments, the contents of every file they name, and this build's jar. */
    static byte[] fingerprint(List<String> args) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (String a : args) {
                d.update(a.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                d.update((byte) 0);
                for (String part : a.split("=", 2)) {
                    file(d, part);
                }
            }
            var source = TrainingOptions.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                file(d, Path.of(source.getLocation().toURI()).toString());
            }
            return d.digest();
        } catch (NoSuchAlgorithmException | java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void file(MessageDigest d, String name) {
        Path p;
        try {
            p = Path.of(name);
        } catch (java.nio.file.InvalidPathException e) {
            return;
        }
        if (!Files.isRegularFile(p)) {
            return;
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0;) {
                d.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UserError("cannot read " + p + ": " + e.getMessage());
        }
    }
}
