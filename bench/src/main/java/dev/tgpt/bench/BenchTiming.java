package dev.tgpt.bench;

import java.util.Arrays;

/** Fixed-count timing and medians, in seconds, for the standalone benchmarks (MatmulBench, BandwidthBench, HostPeaks). */
final class BenchTiming {

    private BenchTiming() {
    }

    /** Times {@code count} runs into seconds[from, from + count). */
    static void time(Runnable run, double[] seconds, int from, int count) {
        for (int i = from; i < from + count; i++) {
            long t0 = System.nanoTime();
            run.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
    }

    /** The median of {@code runs} timed runs after {@code warmup} untimed ones, in seconds. */
    static double median(Runnable run, int warmup, int runs) {
        for (int i = 0; i < warmup; i++) {
            run.run();
        }
        double[] t = new double[runs];
        time(run, t, 0, runs);
        return median(t);
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

}
