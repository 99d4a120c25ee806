package dev.tgpt.engine.dist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;

/**
 * The test doubles of NCCL and the CUDA driver (resources fakegpu/*.c: host memory, sums through MPI), compiled once
 * per JVM with Open MPI's mpicc, and the JVM options that make tgpt load them in place of libnccl.so.2 and libcuda.so.1
 * on tornado-jvm's emulated CUDA device (TORNADO_JVM_NATIVE_STREAMS). What they check: tgpt's side of NCCL (the FFM
 * signatures, the unique id's broadcast, the library task and its pointers, the staged copies, the watchdog), not NCCL.
 */
public final class FakeGpu {

    private static Path dir;

    private FakeGpu() {
    }

    /** The directory holding libfakenccl.so and libfakecuda.so (skips the test where mpicc is missing). */
    public static synchronized Path libraries() throws IOException, InterruptedException {
        if (dir == null) {
            Assumptions.assumeTrue(MpiRuns.onPath("mpicc"), "mpicc is not on PATH: install Open MPI (libopenmpi-dev) and a C compiler");
            Path d = Files.createTempDirectory("tgpt-fakegpu");
            for (String name : List.of("fake_nccl", "fake_cuda")) {
                try (InputStream in = FakeGpu.class.getResourceAsStream("/fakegpu/" + name + ".c")) {
                    Files.copy(in, d.resolve(name + ".c"));
                }
                String lib = "lib" + name.replace("_", "") + ".so";
                Process p = new ProcessBuilder("mpicc", "-shared", "-fPIC", "-O1", "-o", lib, name + ".c").directory(d.toFile())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("mpicc " + name + ".c failed:\n" + out);
                }
            }
            dir = d;
        }
        return dir;
    }

    /** The system properties that load the doubles (set them before NCCL is first used). */
    public static List<String> properties() throws IOException, InterruptedException {
        Path d = libraries();
        return List.of("-Dtgpt.ncclLibrary=" + d.resolve("libfakenccl.so"), "-Dtgpt.cudaLibrary=" + d.resolve("libfakecuda.so"));
    }
}
