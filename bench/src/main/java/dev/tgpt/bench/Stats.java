package dev.tgpt.bench;

import java.util.Arrays;

/** Timed repetitions of one case, in milliseconds: median, quartiles (the spread), extremes. */
public record Stats(int runs, double medianMs, double p25Ms, double p75Ms, double minMs, double maxMs) {

    /** The largest interquartile range, as a share of the median, of a stable case. */
    static final double MAX_SPREAD = 0.2;
    /** How many times its fastest run a stable case's median may take. */
    static final double MAX_OVER_FASTEST = 2;

    public static Stats of(double[] ms) {
        if (ms.length == 0) {
            throw new IllegalArgumentException("no runs");
        }
        double[] s = ms.clone();
        Arrays.sort(s);
        return new Stats(s.length, quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75), s[0], s[s.length - 1]);
    }

    /** Linear interpolation between order statistics (numpy's default), so both sides of a comparison agree. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** The interquartile range as a share of the median. */
    public double spread() {
        return spread(medianMs, p25Ms, p75Ms);
    }

    public boolean stable() {
        return stable(medianMs, p25Ms, p75Ms, minMs);
    }

    static double spread(double median, double p25, double p75) {
        return (p75 - p25) / median;
    }

    /**
     * Whether a median can be trusted: the middle half of the runs within {@link #MAX_SPREAD} of it, and the median no
     * more than {@link #MAX_OVER_FASTEST} times the fastest run (a median far above the fastest run is the time of
     * interruptions, a JIT still compiling or another process, not of the case).
     */
    static boolean stable(double median, double p25, double p75, double min) {
        return spread(median, p25, p75) <= MAX_SPREAD && median <= MAX_OVER_FASTEST * min;
    }
}
