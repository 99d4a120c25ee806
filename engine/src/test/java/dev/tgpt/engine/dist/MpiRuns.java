package dev.tgpt.engine.dist;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/** Runs a probe's main class on local ranks under Open MPI's mpirun, for the tests of the collectives. */
final class MpiRuns {

    record Run(int exit, double seconds, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + " after " + seconds + " s\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private MpiRuns() {
    }

    /**
     * Runs {@code main mode} on {@code np} ranks, in JVMs with this one's options and class path (surefire puts the test
     * class path there, not its booter jar), and ends whatever is left of it after 60 s.
     */
    static Run mpirun(Path dir, int np, Class<?> main, String mode, int rankTimeout, Map<String, String> env, String... options)
            throws Exception {
        Assumptions.assumeTrue(onPath("mpirun"), "mpirun is not on PATH: install Open MPI (openmpi-bin) to test Mpi");
        List<String> command = new ArrayList<>(List.of("mpirun", "-np", String.valueOf(np), "--oversubscribe",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName(), mode));
        File out = dir.resolve(mode + ".out").toFile();
        File err = dir.resolve(mode + ".err").toFile();
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
        Map<String, String> vars = new HashMap<>(Map.of("OMPI_ALLOW_RUN_AS_ROOT", "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1",
                "TGPT_RANK_TIMEOUT", String.valueOf(rankTimeout)));
        vars.putAll(env);
        pb.environment().putAll(vars);
        long t0 = System.nanoTime();
        Process p = pb.start();
        // the ranks, to end them too should mpirun be killed (they would outlive it)
        Set<ProcessHandle> ranks = new HashSet<>();
        try {
            while (!p.waitFor(200, TimeUnit.MILLISECONDS) && System.nanoTime() - t0 < 60e9) {
                p.descendants().forEach(ranks::add);
            }
        } finally {
            ranks.forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        int exit = p.waitFor();
        return new Run(exit, (System.nanoTime() - t0) / 1e9, Files.readString(out.toPath()), Files.readString(err.toPath()));
    }

    static boolean onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
    }
}
