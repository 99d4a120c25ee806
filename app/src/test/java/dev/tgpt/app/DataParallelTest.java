package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.dist.FakeGpu;
import dev.tgpt.engine.io.Safetensors;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Data parallelism, the test of it all: 2 ranks (mpirun on localhost) at --batch B train on exactly the sequences one
 * process at --batch 2·B trains on, so their metrics and final weights agree within float rounding. Tolerances: the
 * ranks' gradients are summed in another order (each rank's rows, then the two sums) and so are the loss means, which
 * changes the last bits; over a few AdamW steps of a tiny model the weights then differ by ~1e-6, far below 1e-4 (a
 * wrong shard, a rank training on the wrong rows or a missing all-reduce moves them by 1e-3 or more).
 */
class DataParallelTest {

    static final double LOSS_TOLERANCE = 1e-4;
    static final double WEIGHT_TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    static Path text;
    static Path base;

    @BeforeAll
    static void pretrain() throws Exception {
        Assumptions.assumeTrue(onPath("mpirun"), "no mpirun on PATH: install Open MPI (Debian: openmpi-bin, libopenmpi-dev); CI does");
        Random r = new Random(3);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 6000; i++) {
            s.append("abcdefgh \n".charAt(r.nextInt(10)));
        }
        text = dir.resolve("text.txt");
        Files.writeString(text, s);
        base = dir.resolve("base");
        TgptTest.Run t = TgptTest.run(train(base, 4, "--steps", "2"));
        assertEquals(0, t.code(), t.err());
    }

    static String[] train(Path out, int batch, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", text.toString(), "--model", "tiny", "--batch", String.valueOf(batch),
                "--eval-every", "3", "--eval-batches", "2", "--warmup", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        for (String[] option : List.of(new String[] { "--device", "jvm" }, new String[] { "--sample-tokens", "4" })) {
            if (!a.contains(option[0])) {
                a.addAll(List.of(option));
            }
        }
        return a.toArray(String[]::new);
    }

    /** With the exchange overlapping the backward (--overlap on); the other runs here take auto, off on one machine. */
    @Test
    void twoRanksTrainAsOneProcessWithTwiceTheBatch() throws Exception {
        Path one = dir.resolve("one");
        assertEquals(0, TgptTest.run(train(one, 4, "--steps", "6")).code());
        Result two = mpirun(2, Map.of(), train(dir.resolve("two"), 2, "--steps", "6", "--overlap", "on"));
        assertEquals(0, two.code, two.err);
        assertTrue(two.err.contains("; gradients exchanged during the backward"), two.err);
        assertSameRun(one, dir.resolve("two"), 6);
        // rank 0 alone writes
        assertEquals(1, two.out.lines().filter(l -> l.startsWith("6 steps")).count(), two.out);
    }

    /**
     * Slurm's srun with PMIx starts the ranks as mpirun does (CI starts a one-node Slurm: .ci/slurm-setup.sh). Without
     * PMIx srun starts copies that would each train alone into the same --out: refused, nothing written.
     */
    @Test
    void srunWithPmixTrainsAsOneProcessAndWithoutItIsRefused() throws Exception {
        Assumptions.assumeTrue(onPath("srun") && slurmAnswers(), "no Slurm cluster answers here (CI starts one: .ci/slurm-setup.sh)");
        Path one = dir.resolve("srun-one");
        assertEquals(0, TgptTest.run(train(one, 4, "--steps", "4")).code());
        Result two = srun(List.of("--mpi=pmix"), train(dir.resolve("srun-two"), 2, "--steps", "4"));
        assertEquals(0, two.code, two.err);
        assertTrue(two.err.contains("2 ranks on jvm") && !two.err.contains("during the backward"), "--overlap auto on one machine: off\n" + two.err);
        assertSameRun(one, dir.resolve("srun-two"), 4);
        assertEquals(1, two.out.lines().filter(l -> l.startsWith("4 steps")).count(), two.out);

        Result plain = srun(List.of(), train(dir.resolve("srun-plain"), 2, "--steps", "4"));
        assertEquals(2, plain.code, plain.err);
        assertTrue(plain.err.contains("tgpt: srun started 2 tasks without PMIx, so each would train alone: run srun --mpi=pmix"), plain.err);
        assertTrue(Files.notExists(dir.resolve("srun-plain")));
    }

    static Result srun(List<String> options, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("srun", "-n", "2"));
        cmd.addAll(options);
        cmd.addAll(java(args));
        return start(cmd, Map.of()).await(600);
    }

    static boolean slurmAnswers() throws Exception {
        Process p = new ProcessBuilder("sinfo", "-h", "-o", "%T").redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return false;
        }
        String state = new String(p.getInputStream().readAllBytes());
        // completing: a previous test's job is ending, and srun waits for the node
        return p.exitValue() == 0 && (state.contains("idle") || state.contains("mixed") || state.contains("alloc") || state.contains("comp"));
    }

    @Test
    void zeroOneShardsTheMomentsWithTheSameResult() throws Exception {
        Path one = dir.resolve("one-z");
        assertEquals(0, TgptTest.run(train(one, 4, "--steps", "6")).code());
        Result two = mpirun(2, Map.of(), train(dir.resolve("two-z"), 2, "--steps", "6", "--zero", "1", "--overlap", "on"));
        assertEquals(0, two.code, two.err);
        assertTrue(two.err.contains("ZeRO-1: AdamW's moments"), two.err);
        assertSameRun(one, dir.resolve("two-z"), 6);
        // and the run resumes with one process, exactly where it stopped
        TgptTest.Run resumed = TgptTest.run(train(dir.resolve("two-z"), 4, "--steps", "7", "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        TgptTest.Run straight = TgptTest.run(train(dir.resolve("one-z"), 4, "--steps", "7", "--resume"));
        assertEquals(0, straight.code(), straight.err());
        assertSameRun(dir.resolve("one-z"), dir.resolve("two-z"), 7);
    }

    /**
     * The same on TornadoVM devices, one a rank ({@code --device 0:0,0:1}: local rank r takes the r-th): tornado-jvm's
     * emulated devices in CI, in SDK mode PoCL's CPU made two devices by POCL_DEVICES (the system property tgpt.devices
     * names others). Gradients come to the host and go back as an input of the update, ZeRO's gathered parameters
     * through a program of their own; with --overlap on, each layer's as the backward's graphs finish it. Fewer steps:
     * the emulator is ~1000× slower than the JVM backend.
     */
    @Test
    void twoRanksOnTwoDevicesAsOneProcessWithZeroAndOverlap() throws Exception {
        String devices = System.getProperty("tgpt.devices", "0:0,0:1");
        Path one = dir.resolve("dev-one");
        TgptTest.Run single = onTheEmulator(train(one, 4, "--steps", "3", "--device", devices.split(",")[0], "--sample-tokens", "2"));
        assertEquals(0, single.code(), single.err());
        Map<String, String> env = Map.of(DeviceOption.ALLOW_EMULATOR, "1", "TORNADO_JVM_DEVICES", "2", "POCL_DEVICES", "pthread pthread");
        Result two = mpirun(2, env, train(dir.resolve("dev-two"), 2, "--steps", "3", "--device", devices, "--sample-tokens", "2"));
        assertEquals(0, two.code, two.err);
        assertTrue(two.err.contains("×2 ranks on " + devices.replace(",", ", ")), two.err);
        assertSameRun(one, dir.resolve("dev-two"), 3);
        Result overlapped = mpirun(2, env, train(dir.resolve("dev-two-z"), 2, "--steps", "3", "--device", devices, "--sample-tokens", "2", "--zero",
                "1", "--overlap", "on"));
        assertEquals(0, overlapped.code, overlapped.err);
        assertTrue(overlapped.err.contains("; gradients exchanged during the backward"), overlapped.err);
        assertSameRun(one, dir.resolve("dev-two-z"), 3);
    }

    /**
     * Gradients summed on the device by NCCL: the update program starts with a library task per gradient array that
     * all-reduces it in place (no copy to the host); with --overlap on, a library task after each layer's backward
     * hands its ranges to NCCL's stream and the update's sums the rest; under ZeRO-1 the slab is reduce-scattered, the
     * norm's squares summed and the weights all-gathered, all on the device. In CI on tornado-jvm's emulated CUDA device
     * with the doubles of NCCL and the CUDA driver ({@link FakeGpu}: host memory, sums through MPI); on a GPU,
     * bench/gpu-run.sh.
     */
    @Test
    void twoRanksSumGradientsOnTheDeviceWithNccl() throws Exception {
        Assumptions.assumeTrue(TestBackends.emulated(), "the NCCL and CUDA doubles need tornado-jvm's emulated CUDA device");
        Path one = dir.resolve("nccl-one");
        // two micro-batches a step: only the last one's backward hands its layers over (the first's are not final)
        TgptTest.Run single = onTheEmulator(train(one, 2, "--steps", "3", "--device", "0:0", "--sample-tokens", "2", "--accumulation", "2"));
        assertEquals(0, single.code(), single.err());
        for (String[] run : List.of(new String[] { "nccl-two", "--collective", "nccl", "--overlap", "off" },
                new String[] { "nccl-two-o", "--collective", "nccl", "--overlap", "on" }, new String[] { "nccl-two-z", "--zero", "1" },
                new String[] { "nccl-two-zo", "--zero", "1", "--overlap", "on" })) {
            List<String> args = new ArrayList<>(List.of("--steps", "3", "--device", "0:0", "--sample-tokens", "2", "--accumulation", "2"));
            args.addAll(List.of(run).subList(1, run.length));
            List<String> cmd = new ArrayList<>(List.of("mpirun", "--oversubscribe", "-np", "2"));
            cmd.addAll(java(FakeGpu.properties(), train(dir.resolve(run[0]), 1, args.toArray(String[]::new))));
            Result two = start(cmd, Map.of(DeviceOption.ALLOW_EMULATOR, "1", "TORNADO_JVM_NATIVE_STREAMS", "1")).await(600);
            assertEquals(0, two.code, two.err);
            // auto takes NCCL, ZeRO-1 included
            assertTrue(two.err.contains("; gradients summed on the device by NCCL 2.30.7 on CUDA device 0"), two.err);
            assertEquals(args.contains("on"), two.err.contains("; gradients exchanged during the backward"), two.err);
            assertEquals(args.contains("--zero"), two.err.contains("; ZeRO-1: AdamW's moments"), two.err);
            assertSameRun(one, dir.resolve(run[0]), 3);
        }
    }

    @Test
    void finetuneSftLoraRewardModelDpoPpoAndGrpoAsOneProcess() throws Exception {
        Path labelled = dir.resolve("labelled.jsonl");
        Path demos = dir.resolve("demos.jsonl");
        Path rankings = dir.resolve("rankings.jsonl");
        StringBuilder l = new StringBuilder();
        StringBuilder d = new StringBuilder();
        StringBuilder k = new StringBuilder();
        String[] words = { "ab", "cd", "ef", "gh", "ba", "dc" };
        for (int i = 0; i < 24; i++) {
            String w = words[i % words.length];
            l.append("{\"text\": \"").append(w).append(w).append("\", \"label\": \"").append(i % 2).append("\"}\n");
            d.append("{\"prompt\": \"").append(w).append("\", \"completion\": \" ").append(new StringBuilder(w).reverse()).append("\"}\n");
            k.append("{\"prompt\": \"").append(w).append("\", \"ranking\": [\"").append(w).append("\", \"h\", \"").append(i % 3 == 0 ? "ab" : "")
                    .append("a\"]}\n");
        }
        Files.writeString(labelled, l);
        Files.writeString(demos, d);
        Files.writeString(rankings, k);
        String init = base.resolve("checkpoint").toString();
        for (String[] job : List.of(
                new String[] { "finetune", "--train", labelled.toString(), "--val", labelled.toString(), "--steps", "3", "--lr", "1e-3" },
                new String[] { "sft", "--data", demos.toString(), "--steps", "3", "--lr", "1e-3" },
                new String[] { "rm", "--data", rankings.toString(), "--demonstrations", demos.toString(), "--steps", "3", "--lr", "1e-3" },
                new String[] { "dpo", "--data", rankings.toString(), "--steps", "3", "--lr", "1e-3" },
                new String[] { "sft", "--data", demos.toString(), "--steps", "3", "--lr", "1e-2", "--lora", "2" })) {
            String name = job[0] + (List.of(job).contains("--lora") ? "-lora" : "");
            String[] shape = switch (job[0]) {
                case "rm" -> new String[] { "--prompts", "4", "--prompts", "2" };
                case "dpo" -> new String[] { "--pairs", "4", "--pairs", "2" };
                default -> new String[] { "--batch", "4", "--batch", "2" };
            };
            Path one = dir.resolve(name + "-one");
            Path two = dir.resolve(name + "-two");
            TgptTest.Run single = TgptTest.run(args(job, "--device", "jvm", "--init", init, shape[0], shape[1], "--out", one.toString()));
            assertEquals(0, single.code(), name + ": " + single.err());
            Result parallel = mpirun(2, Map.of(), args(job, "--device", "jvm", "--init", init, shape[2], shape[3], "--out", two.toString()));
            assertEquals(0, parallel.code, name + ": " + parallel.err);
            // the loop's first message says how the ranks work together (here: plain data parallelism)
            assertTrue(parallel.err.contains(": 2 ranks\n") && !single.err().contains(": 1 rank"), name + ": " + parallel.err);
            assertSameRun(one, two, 3);
        }
        // one PPO iteration from those two: 2 ranks sampling 2 rollouts each, minibatches of 1 a rank, against 4 and 2
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"ab\"}\n{\"prompt\": \"cd\"}\n{\"prompt\": \"ef\"}\n");
        String[] ppo = { "ppo", "--device", "jvm", "--sft", dir.resolve("sft-one/checkpoint").toString(), "--rm", dir.resolve("rm-one").toString(),
                "--prompts", prompts.toString(), "--iterations", "1", "--epochs", "2", "--max-response", "4", "--lr", "1e-3" };
        TgptTest.Run single = TgptTest.run(args(ppo, "--rollouts", "4", "--batch", "2", "--out", dir.resolve("ppo-one").toString()));
        assertEquals(0, single.code(), single.err());
        Result parallel = mpirun(2, Map.of(), args(ppo, "--rollouts", "2", "--batch", "1", "--out", dir.resolve("ppo-two").toString()));
        assertEquals(0, parallel.code, parallel.err);
        assertTrue(parallel.err.contains("PPO: 2 ranks\n"), parallel.err);
        assertSameRun(dir.resolve("ppo-one"), dir.resolve("ppo-two"), 1);
        // one GRPO iteration rewarded by the labeler: 2 ranks with 1 prompt × 2 responses each against 2 prompts in one process
        String[] grpo = { "grpo", "--device", "jvm", "--sft", dir.resolve("sft-one/checkpoint").toString(), "--reward", "labeler", "--prompts",
                prompts.toString(), "--iterations", "1", "--group", "2", "--epochs", "2", "--max-response", "4", "--lr", "1e-3" };
        single = TgptTest.run(args(grpo, "--prompts-per-iteration", "2", "--batch", "2", "--out", dir.resolve("grpo-one").toString()));
        assertEquals(0, single.code(), single.err());
        parallel = mpirun(2, Map.of(), args(grpo, "--prompts-per-iteration", "1", "--batch", "1", "--out", dir.resolve("grpo-two").toString()));
        assertEquals(0, parallel.code, parallel.err);
        assertSameRun(dir.resolve("grpo-one"), dir.resolve("grpo-two"), 1);
    }

    @Test
    void ranksWithDifferentOptionsAreRefused() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mpirun", "--oversubscribe", "-np", "1"));
        cmd.addAll(java(train(dir.resolve("mismatch"), 2, "--steps", "2", "--lr", "1e-3")));
        cmd.addAll(List.of(":", "-np", "1"));
        cmd.addAll(java(train(dir.resolve("mismatch"), 2, "--steps", "2", "--lr", "2e-3")));
        Result r = start(cmd, Map.of()).await(120);
        assertNotEquals(0, r.code, r.err);
        assertTrue(r.err.contains("tgpt: 1 of the 2 ranks were started with other options, data or code than rank 0"), r.err);
        assertTrue(!r.err.contains("\tat ") && !Files.exists(dir.resolve("mismatch/checkpoint")), r.err);
    }

    @Test
    void aRankThatDiesOrHangsEndsTheRun() throws Exception {
        for (String signal : List.of("KILL", "STOP")) {
            assertAFaultEndsTheRun("mpirun", signal, out -> mpirunCommand(2, train(out, 2, "--steps", "100000", "--checkpoint-every", "2")));
        }
    }

    /** The same under Slurm's srun (CI starts a one-node Slurm): the ranks are slurmstepd's children, not the launcher's. */
    @Test
    void aRankThatDiesOrHangsUnderSrunEndsTheRun() throws Exception {
        Assumptions.assumeTrue(onPath("srun") && slurmAnswers(), "no Slurm cluster answers here (CI starts one: .ci/slurm-setup.sh)");
        for (String signal : List.of("KILL", "STOP")) {
            assertAFaultEndsTheRun("srun", signal, out -> {
                List<String> cmd = new ArrayList<>(List.of("srun", "-n", "2", "--mpi=pmix"));
                cmd.addAll(java(train(out, 2, "--steps", "100000", "--checkpoint-every", "2")));
                return cmd;
            });
        }
    }

    /**
     * Starts a long run, stops rank 1 with {@code signal} after 3 steps: the run must end non-zero within 60 s (a
     * stopped rank through the others' 5 s timeout), and its last checkpoint must load.
     */
    static void assertAFaultEndsTheRun(String launcher, String signal, java.util.function.Function<Path, List<String>> command) throws Exception {
        Path out = dir.resolve("fault-" + launcher + "-" + signal);
        String marker = launcher + "-" + signal + "-" + ProcessHandle.current().pid();
        Started run = start(command.apply(out), Map.of("TGPT_RANK_TIMEOUT", "5", "TGPT_TEST_RUN", marker));
        Path metrics = out.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while ((!Files.exists(metrics) || Files.readAllLines(metrics).size() < 3) && System.nanoTime() < deadline && run.process.isAlive()) {
            Thread.sleep(200);
        }
        Result r;
        long t0;
        try {
            assertTrue(run.process.isAlive(), "the run ended before a rank was stopped: " + Files.readString(run.err));
            long rank1 = rankPid(marker, 1);
            new ProcessBuilder("kill", "-" + signal, String.valueOf(rank1)).start().waitFor();
            t0 = System.nanoTime();
            r = run.await(90);
        } finally {
            ProcessHandle.allProcesses().filter(h -> hasEnv(h, "TGPT_TEST_RUN=" + marker)).forEach(ProcessHandle::destroyForcibly);
            run.process.destroyForcibly();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String what = launcher + ", " + signal;
        assertNotEquals(0, r.code, what + ": " + r.err);
        assertTrue(seconds < 60, what + ": the run took " + seconds + " s to end");
        if (signal.equals("STOP")) {
            assertTrue(r.err.contains("no answer from the other ranks for 5 s"), what + ": " + r.err);
        }
        // the last checkpoint is whole: a model loads from it
        TgptTest.Run sample = TgptTest.run("sample", "--device", "jvm", "--model", out.resolve("checkpoint").toString(), "--tokens", "3");
        assertEquals(0, sample.code(), what + ": " + sample.err());
    }

    /**
     * The pid of rank {@code rank} of the run marked {@code marker}, by its environment: mpirun's OMPI_COMM_WORLD_RANK,
     * srun's SLURM_PROCID (ProcessHandle's command line is cut short on Linux: in SDK mode the class path alone is
     * longer; and srun's ranks are not srun's children).
     */
    static long rankPid(String marker, int rank) {
        return ProcessHandle.allProcesses()
                .filter(h -> hasEnv(h, "TGPT_TEST_RUN=" + marker) && (hasEnv(h, "OMPI_COMM_WORLD_RANK=" + rank) || hasEnv(h, "SLURM_PROCID=" + rank)))
                .filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false)).mapToLong(ProcessHandle::pid).findFirst()
                .orElseThrow(() -> new AssertionError("no java process of rank " + rank + " in run " + marker));
    }

    private static boolean hasEnv(ProcessHandle h, String entry) {
        try {
            byte[] environ = Files.readAllBytes(Path.of("/proc/" + h.pid() + "/environ"));
            return new String(environ, java.nio.charset.StandardCharsets.ISO_8859_1).replace('\0', '\n').lines().anyMatch(entry::equals);
        } catch (java.io.IOException | SecurityException e) {
            return false;
        }
    }

    static String[] args(String[] job, String... more) {
        List<String> a = new ArrayList<>(List.of(job));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** The same losses (every figure of metrics.jsonl but times) and the same final weights. */
    static void assertSameRun(Path one, Path two, int steps) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> a = Files.readAllLines(one.resolve("metrics.jsonl"));
        List<String> b = Files.readAllLines(two.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size(), "metrics lines");
        assertEquals(steps, json.readTree(a.getLast()).path(json.readTree(a.getLast()).has("step") ? "step" : "iteration").asInt());
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = json.readTree(a.get(i));
            JsonNode y = json.readTree(b.get(i));
            for (var names = x.fieldNames(); names.hasNext();) {
                String f = names.next();
                if (f.equals("tokens_per_s") || f.endsWith("_s")) {
                    continue;
                }
                double u = x.get(f).asDouble();
                double v = y.path(f).asDouble(Double.NaN);
                assertTrue(Math.abs(u - v) <= LOSS_TOLERANCE * Math.max(1, Math.abs(u)), one + " line " + (i + 1) + " " + f + ": " + u + " vs " + v);
            }
        }
        try (Safetensors x = Safetensors.open(one.resolve("checkpoint/model.safetensors"));
                Safetensors y = Safetensors.open(two.resolve("checkpoint/model.safetensors"))) {
            double worst = 0;
            for (String name : x.tensors().keySet()) {
                FloatArray p = x.floats(name);
                FloatArray q = y.floats(name);
                for (int i = 0; i < p.getSize(); i++) {
                    worst = Math.max(worst, Math.abs(p.get(i) - q.get(i)));
                }
            }
            assertTrue(worst <= WEIGHT_TOLERANCE, one + ": weights differ by up to " + worst);
        }
    }

    record Result(int code, String out, String err) {
    }

    record Started(Process process, Path out, Path err) {
        Result await(int seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError("mpirun still running after " + seconds + " s: " + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        }
    }

    /** tgpt in this JVM, allowed to train on tornado-jvm's emulated devices (a real device in SDK mode). */
    static TgptTest.Run onTheEmulator(String... args) {
        String previous = System.setProperty("tgpt.allowEmulator", "true");
        try {
            return TgptTest.run(args);
        } finally {
            if (previous == null) {
                System.clearProperty("tgpt.allowEmulator");
            } else {
                System.setProperty("tgpt.allowEmulator", previous);
            }
        }
    }

    static Result mpirun(int ranks, Map<String, String> env, String... args) throws Exception {
        return start(mpirunCommand(ranks, args), env).await(600);
    }

    static List<String> mpirunCommand(int ranks, String... args) {
        List<String> cmd = new ArrayList<>(List.of("mpirun", "--oversubscribe", "-np", String.valueOf(ranks)));
        cmd.addAll(java(args));
        return cmd;
    }

    /** This test JVM's java, options and class path, running tgpt with these arguments. */
    static List<String> java(String... args) {
        return java(List.of(), args);
    }

    /** The same with more JVM options. */
    static List<String> java(List<String> options, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-javaagent") && !a.startsWith("-agentlib")) {
                cmd.add(a);
            }
        }
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.tgpt.app.Tgpt"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Started start(List<String> cmd, Map<String, String> env) throws Exception {
        Path out = Files.createTempFile(dir, "mpirun", ".out");
        Path err = Files.createTempFile(dir, "mpirun", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        // CI runs as root, which Open MPI refuses unless told
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().putAll(env);
        return new Started(pb.start(), out, err);
    }

    static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }
}
