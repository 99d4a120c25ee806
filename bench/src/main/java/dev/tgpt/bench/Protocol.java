package dev.tgpt.bench;

import java.util.Arrays;

/**
 * How every implementation is timed, ours and the references alike (bench/python/torch_bench.py takes the same
 * figures): untimed runs for warmupSeconds (at least two: the first compiles, on TornadoVM and in C2), then timed
 * runs until both minRuns and minSeconds are reached, at most maxRuns.
 */
public record Protocol(double warmupSeconds, int minRuns, double minSeconds, int maxRuns) {

    public static final Protocol FULL = new Protocol(2, 10, 1, 200);
    /** Enough for a stable median on the small sizes of --quick. */
    public static final Protocol QUICK = new Protocol(0.5, 5, 0.3, 50);

    /** Times run; returns milliseconds per timed run. */
    public double[] time(java.lang.Runnable run) {
        long start = System.nanoTime();
        for (int i = 0; i < 2 || System.nanoTime() - start < warmupSeconds * 1e9; i++) {
            run.run();
        }
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

    /** The arguments torch_bench.py takes for the same protocol. */
    public String[] pythonArgs() {
        return new String[] { "--warmup", Double.toString(warmupSeconds), "--min-runs", Integer.toString(minRuns), "--min-seconds",
                Double.toString(minSeconds), "--max-runs", Integer.toString(maxRuns) };
    }
}
