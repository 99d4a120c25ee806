package dev.tgpt.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.DoubleStream;

/**
 * How every implementation is timed, ours and the references alike (bench/python/torch_bench.py follows the same
 * rules with the same figures).
 * <ul>
 * <li>Warm-up: untimed runs for warmupSeconds (at least two: the first compiles, on TornadoVM and in C2), and on
 * while they still get faster (the median of the last {@link #WINDOW} runs more than 10% under the median of the
 * {@link #WINDOW} before) for at most {@link #SETTLE_LIMIT} times warmupSeconds, and on while the JIT compiled
 * something during the last {@link #WINDOW} runs or {@link #QUIET_SECONDS}, for at most {@link #JIT_LIMIT_SECONDS}. C2 takes ~6 s of a fresh
 * JVM's training steps on 2 cores to compile all of a step's code: a fixed 2 s of warm-up timed the main job's step at
 * batch 4 mid-compilation, ten times its settled time; --quick's 2.5 s timed a kernel's first size before C2 had
 * compiled its vector code (gelu.backward: 7.3 ms for 64 rows, 0.49 ms for 256).</li>
 * <li>Timing: attempts of runs until both minRuns and minSeconds are reached, at most maxRuns each, until the runs of
 * two attempts in a row are {@link Stats#stable() stable} together (a narrow spread and a median near the fastest run:
 * not another process, a collection or a plateau of the JIT), at most {@link #ATTEMPTS} attempts; the last two are
 * kept, and the report marks a case that never settled. --quick once reported gelu at 10.8 ms for 64 rows and 0.29 ms
 * for 256, and a residual whose median was 1.12 ms and fastest run 0.05 ms.</li>
 * </ul>
 */
public record Protocol(double warmupSeconds, int minRuns, double minSeconds, int maxRuns) {

    public static final Protocol FULL = new Protocol(2, 10, 1, 200);
    /** Enough for a stable median on the small sizes of --quick. */
    public static final Protocol QUICK = new Protocol(0.5, 5, 0.3, 50);

    static final int WINDOW = 5;
    static final int SETTLE_LIMIT = 5;
    static final int ATTEMPTS = 4;
    /** The longest warm-up while the JIT is still compiling. */
    static final double JIT_LIMIT_SECONDS = 30;
    static final double QUIET_SECONDS = 0.25;

    /** Times run; returns milliseconds per timed run of the last two attempts. */
    public double[] time(Runnable run) {
        warmUp(run);
        return timedUntilStable(run);
    }

    /**
     * Timed attempts until two in a row are stable together (one attempt that is stable alone can be a plateau while
     * the JIT still compiles), at most {@link #ATTEMPTS}; the runs of the last two.
     */
    double[] timedUntilStable(Runnable run) {
        double[] last = timed(run);
        double[] both = last;
        for (int attempt = 1; attempt < ATTEMPTS; attempt++) {
            double[] next = timed(run);
            both = DoubleStream.concat(Arrays.stream(last), Arrays.stream(next)).toArray();
            if (Stats.of(both).stable()) {
                break;
            }
            last = next;
        }
        return both;
    }

    private void warmUp(Runnable run) {
        long start = System.nanoTime();
        List<Double> warm = new ArrayList<>();
        Jit jit = new Jit();
        while (warm.size() < 2 || seconds(start) < warmupSeconds || (!settled(warm) && seconds(start) < SETTLE_LIMIT * warmupSeconds)
                || (!jit.quietFor(WINDOW) && seconds(start) < JIT_LIMIT_SECONDS)) {
            long t0 = System.nanoTime();
            run.run();
            warm.add((System.nanoTime() - t0) / 1e6);
            jit.ran();
        }
    }

    private double[] timed(Runnable run) {
        double[] ms = new double[maxRuns];
        int n = 0;
        long timedStart = System.nanoTime();
        while (n < maxRuns && (n < minRuns || System.nanoTime() - timedStart < minSeconds * 1e9)) {
            long t0 = System.nanoTime();
            run.run();
            ms[n++] = (System.nanoTime() - t0) / 1e6;
        }
        return Arrays.copyOf(ms, n);
    }

    /** Whether the last WINDOW runs are no more than 10% faster than the WINDOW before them. */
    static boolean settled(List<Double> ms) {
        int n = ms.size();
        if (n < 2 * WINDOW) {
            return false;
        }
        return median(ms.subList(n - WINDOW, n)) >= 0.9 * median(ms.subList(n - 2 * WINDOW, n - WINDOW));
    }

    /**
     * The JIT's total compilation time, watched across runs; always quiet where the JVM does not monitor it. Quiet
     * means nothing compiled for {@link #WINDOW} runs and {@link #QUIET_SECONDS}: a compilation finishes only some
     * 10–100 ms after it starts, many runs of a small kernel later.
     */
    private static final class Jit {
        private final CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
        private final boolean monitored = bean != null && bean.isCompilationTimeMonitoringSupported();
        private long compiled = monitored ? bean.getTotalCompilationTime() : 0;
        private long quietSince = System.nanoTime();
        private int quiet;

        void ran() {
            long now = monitored ? bean.getTotalCompilationTime() : 0;
            if (now == compiled) {
                quiet++;
            } else {
                quiet = 0;
                quietSince = System.nanoTime();
            }
            compiled = now;
        }

        boolean quietFor(int runs) {
            return !monitored || quiet >= runs && seconds(quietSince) >= QUIET_SECONDS;
        }
    }

    private static double median(List<Double> ms) {
        return Stats.of(ms.stream().mapToDouble(Double::doubleValue).toArray()).medianMs();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** The arguments torch_bench.py takes for the same protocol. */
    public String[] pythonArgs() {
        return new String[] { "--warmup", Double.toString(warmupSeconds), "--min-runs", Integer.toString(minRuns), "--min-seconds",
                Double.toString(minSeconds), "--max-runs", Integer.toString(maxRuns) };
    }
}
