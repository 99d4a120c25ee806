package dev.tgpt.bench;

import java.util.Arrays;

/** Timed repetitions of one case, in milliseconds: median, quartiles (the spread), extremes. */
public record Stats(int runs, double medianMs, double p25Ms, double p75Ms, double minMs, double maxMs) {

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
}
