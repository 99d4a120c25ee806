package dev.tgpt.engine.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.UserError;

/**
 * {@link NcclCollective} through its library task, on local ranks with the NCCL and CUDA doubles ({@link FakeGpu}) on
 * tornado-jvm's emulated CUDA device; and where NCCL cannot run.
 */
class NcclTest {

    @TempDir
    Path dir;

    @Test
    void twoRanksSumOnTheDeviceThroughTheStagedCopies() throws Exception {
        MpiRuns.Run run = run(2, "sum", 60, Map.of());
        assertEquals(0, run.exit(), run::toString);
        for (int rank = 0; rank < 2; rank++) {
            // TornadoVM's context is not the primary one here: the sum goes through the stage, a copy each way
            assertTrue(run.out().contains("rank " + rank + ": OK NCCL 2.30.7 on CUDA device 0, sum of 2, 2 staged copies"), run::toString);
        }
    }

    @Test
    void oneRankSumsTheWholeArray() throws Exception {
        // the double multiplies by 3, as 3 equal ranks would sum: every element must have been summed, none twice
        MpiRuns.Run run = run(1, "sum", 60, Map.of("FAKE_NCCL_SCALE", "3"));
        assertEquals(0, run.exit(), run::toString);
        assertTrue(run.out().contains("rank 0: OK NCCL 2.30.7 on CUDA device 0, sum of 3, 2 staged copies"), run::toString);
    }

    @Test
    void zeroOnesReduceScatterAndAllGatherOnTheDevice() throws Exception {
        // shards of 50,002 and 50,001 elements: a reduce to each rank and a broadcast from each, in a group; only the
        // rank's own shard is copied back after the reduce, and in before the broadcast
        MpiRuns.Run two = run(2, "shards", 60, Map.of());
        assertEquals(0, two.exit(), two::toString);
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(two.out().contains("rank " + rank + ": OK NCCL 2.30.7 on CUDA device 0, reduce-scatter and all-gather of 2, 4 staged copies"),
                    two::toString);
        }
        MpiRuns.Run one = run(1, "shards", 60, Map.of("FAKE_NCCL_SCALE", "3"));
        assertEquals(0, one.exit(), one::toString);
        assertTrue(one.out().contains("rank 0: OK NCCL 2.30.7 on CUDA device 0, reduce-scatter and all-gather of 3, 4 staged copies"), one::toString);
    }

    @Test
    void aRankThatNeverArrivesEndsTheRun() throws Exception {
        MpiRuns.Run run = run(2, "hang", 3, Map.of());
        assertNotEquals(0, run.exit(), run::toString);
        assertTrue(run.seconds() < 30, run::toString);
        String line = "tgpt: rank 0 of 2: no answer from the other ranks for 3 s in ncclAllReduce (a rank died or hangs); ending the run";
        assertEquals(1, run.err().lines().filter(line::equals).count(), run::toString);
    }

    @Test
    void anErrorNcclReportsEndsTheRunAtOnce() throws Exception {
        // rank 0 waits in the sum for rank 1, which sleeps; NCCL reports a lost peer long before the 60 s limit
        MpiRuns.Run run = run(2, "hang", 60, Map.of("FAKE_NCCL_ASYNC_ERROR", "6"));
        assertNotEquals(0, run.exit(), run::toString);
        assertTrue(run.seconds() < 30, run::toString);
        String line = "tgpt: rank 0 of 2: NCCL failed in ncclAllReduce: remote process exited or there was a network error (fake NCCL); ending the run";
        assertEquals(1, run.err().lines().filter(line::equals).count(), run::toString);
    }

    @Test
    void aTornadoVmDeviceWithoutCudaStreamsKeepsTheHostPath() {
        // tornado-jvm's device unless TORNADO_JVM_NATIVE_STREAMS is set; in SDK mode the device under test (PoCL: OpenCL)
        Assumptions.assumeTrue(System.getenv("TORNADO_JVM_NATIVE_STREAMS") == null);
        UserError e = assertThrows(UserError.class, () -> NcclCollective.open(Collective.single(), TestBackends.device(), NcclCollective.Mode.nccl));
        assertTrue(e.getMessage().startsWith("--collective nccl: device 0:0 ("), e.getMessage());
        assertTrue(e.getMessage().endsWith(") has no CUDA stream for NCCL: only TornadoVM's CUDA backend has; use --collective host"), e.getMessage());
    }

    @Test
    void autoKeepsTheHostPathWhereNcclCannotRun() {
        assertNull(NcclCollective.open(Collective.single(), new JvmBackend(1), NcclCollective.Mode.auto));
        assertNull(NcclCollective.open(Collective.single(), new JvmBackend(1), NcclCollective.Mode.host));
        UserError e = assertThrows(UserError.class, () -> NcclCollective.open(Collective.single(), new JvmBackend(1), NcclCollective.Mode.nccl));
        assertEquals("--collective nccl: device jvm (jvm) has no CUDA stream for NCCL: only TornadoVM's CUDA backend has; use --collective host",
                e.getMessage());
    }

    /** The probe on tornado-jvm's emulated CUDA device (SDK mode's devices are real: PoCL has no CUDA stream). */
    private MpiRuns.Run run(int ranks, String mode, int timeout, Map<String, String> env) throws Exception {
        Assumptions.assumeTrue(TestBackends.emulated(), "the NCCL and CUDA doubles need tornado-jvm's emulated CUDA device");
        Map<String, String> vars = new java.util.HashMap<>(env);
        vars.put("TORNADO_JVM_NATIVE_STREAMS", "1");
        return MpiRuns.mpirun(dir, ranks, NcclProbe.class, mode, timeout, vars, FakeGpu.properties().toArray(String[]::new));
    }
}
