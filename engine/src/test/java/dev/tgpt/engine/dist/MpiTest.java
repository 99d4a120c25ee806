package dev.tgpt.engine.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Mpi} on two local ranks under Open MPI's mpirun ({@link MpiProbe}), and one process without MPI. */
class MpiTest {

    @TempDir
    Path dir;

    /** On 2 ranks (where a reduce-scatter runs as an all-reduce) and 3 (MPI's own reduce-scatter). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = { 2, 3 })
    void everyCallIsExactAcrossBuckets(int ranks) throws Exception {
        // buckets of 100,000 floats: every size in the probe spans several, with shard ends inside buckets
        MpiRuns.Run run = mpirun(ranks, "check", 120, "-Dtgpt.mpiBucketFloats=100000");
        assertEquals(0, run.exit(), run::toString);
        for (int rank = 0; rank < ranks; rank++) {
            assertTrue(run.out().contains("rank " + rank + ": OK close, twice"), run::toString);
        }
    }

    @Test
    void aRankThatNeverArrivesEndsTheRun() throws Exception {
        MpiRuns.Run run = mpirun(2, "hang", 3);
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

    private MpiRuns.Run mpirun(int np, String mode, int rankTimeout, String... options) throws Exception {
        return MpiRuns.mpirun(dir, np, MpiProbe.class, mode, rankTimeout, Map.of(), options);
    }
}
