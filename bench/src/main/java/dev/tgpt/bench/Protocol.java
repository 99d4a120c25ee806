package dev.tgpt.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How every implementation is timed, ours and the references alike (bench/python/torch_bench.py follows the same
 * rules with the same figures): untimed runs for warmupSeconds (at least two: the first compiles, on TornadoVM and in
 * C2), and on while they still get faster (the median of the last {@link #WINDOW} runs more than 10% under the median
 * of the {@link #WINDOW} before), for at most {@link #SETTLE_LIMIT} times warmupSeconds; then timed runs until both
 * minRuns and minSeconds are reached, at most maxRuns. C2 takes ~6 s of a fresh JVM's training steps on 2 cores to
 * compile all of a step's code: a fixed 2 s of warm-up timed the main job's step at batch 4 mid-compilation, ten
 * times its settled time.
 */
public record Protocol(double warmupSeconds, int minRuns, double minSeconds, int maxRuns) {

    public static final Protocol FULL = new Protocol(2, 10, 1, 200);
    /** Enough for a stable median on the small sizes of --quick. */
    public static final Protocol QUICK = new Protocol(0.5, 5, 0.3, 50);

    static final int WINDOW = 5;
    static final int SETTLE_LIMIT = 5;

    /** Times run; returns milliseconds per timed run. */
    public double[] time(java.lang.Runnable run) {
        long start = System.nanoTime();
        List<Double> warm = new ArrayList<>();
        while (warm.size() < 2 || seconds(start) < warmupSeconds || (!settled(warm) && seconds(start) < SETTLE_LIMIT * warmupSeconds)) {
            long t0 = System.nanoTime();
            run.run();
            warm.add((System.nanoTime() - t0) / 1e6);
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

    /** Whether the last WINDOW runs are no more than 10% faster than the WINDOW before them. */
    static boolean settled(List<Double> ms) {
        int n = ms.size();
        if (n < 2 * WINDOW) {
            return false;
        }
        return median(ms.subList(n - WINDOW, n)) >= 0.9 * median(ms.subList(n - 2 * WINDOW, n - WINDOW));
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
