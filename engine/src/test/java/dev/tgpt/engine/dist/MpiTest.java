package dev.tgpt.engine.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Mpi} on two local ranks under Open MPI's mpirun ({@link MpiProbe}), and one process without MPI. */
class MpiTest {

    @TempDir
    Path dir;

    record Run(int exit, double seconds, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + " after " + seconds + " s\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** On 2 ranks (where a reduce-scatter runs as an all-reduce) and 3 (MPI's own reduce-scatter). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = { 2, 3 })
    void everyCallIsExactAcrossBuckets(int ranks) throws Exception {
        // buckets of 100,000 floats: every size in the probe spans several, with shard ends inside buckets
        Run run = mpirun(ranks, "check", 120, "-Dtgpt.mpiBucketFloats=100000");
        assertEquals(0, run.exit(), run::toString);
        for (int rank = 0; rank < ranks; rank++) {
            assertTrue(run.out().contains("rank " + rank + ": OK close, twice"), run::toString);
        }
    }

    @Test
    void aRankThatNeverArrivesEndsTheRun() throws Exception {
        Run run = mpirun(2, "hang", 3);
        assertNotEquals(0, run.exit(), run::toString);
        assertTrue(run.seconds() < 30, run::toString);
        String line = "tgpt: rank 0 of 2: no answer from the other ranks for 3 s in allReduceSum (a rank died or"
                + " hangs); ending the run";
        assertEquals(1, run.err().lines().filter(line::equals).count(), run::toString);
    }

    @Test
    void oneProcessNeedsNoMpi() throws IOException {
        Assumptions.assumeTrue(Ranks.envSize() == 1, "the tests themselves run as one of several ranks");
        Collective c = Ranks.fromEnvironment();
        assertSame(Collective.single(), c);
        assertSame(c, Ranks.fromEnvironment());
        assertEquals(1, c.size());
        Path maps = Path.of("/proc/self/maps");
        if (Files.exists(maps)) {
            assertFalse(Files.readString(maps).contains("libmpi"), "libmpi is loaded");
        }
    }

    /**
     * Runs the probe on {@code np} ranks, in JVMs with this one's options and class path (surefire puts the test class path
     * there, not its booter jar), and ends whatever is left of it after 60 s.
     */
    private Run mpirun(int np, String mode, int rankTimeout, String... options) throws Exception {
        Assumptions.assumeTrue(onPath("mpirun"), "mpirun is not on PATH: install Open MPI (openmpi-bin) to test Mpi");
        List<String> command = new ArrayList<>(List.of("mpirun", "-np", String.valueOf(np), "--oversubscribe",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), MpiProbe.class.getName(), mode));
        File out = dir.resolve(mode + ".out").toFile();
        File err = dir.resolve(mode + ".err").toFile();
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
        pb.environment().putAll(Map.of("OMPI_ALLOW_RUN_AS_ROOT", "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1",
                "TGPT_RANK_TIMEOUT", String.valueOf(rankTimeout)));
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
        return new Run(exit, (System.nanoTime() - t0) / 1e9, Files.readString(out.toPath()),
                Files.readString(err.toPath()));
    }

    private static boolean onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
    }
}
