package dev.tgpt.bench;

import java.util.Map;

/**
 * One record of results.json and one row of results.csv: a case timed by one implementation on one device.
 *
 * @param impl         who ran it: tgpt, openblas, pytorch, llm.c
 * @param device       tgpt's device id (jvm, 0:0), or the reference's (cpu, cuda)
 * @param deviceName   the device as its driver names it
 * @param gflops       case flops / median time; NaN where the case has no flop count
 * @param gbps         case bytes / median time; NaN where the case has no byte count
 * @param peakFraction the larger of gflops / peak GFLOP/s and gbps / peak GB/s of the device; NaN if its peak is unknown
 * @param compileMs    TornadoVM's compile time (first run), kernelMs and transferMs its profiler's median kernel and
 *                     copy times per run; NaN where there is no such profiler (the JVM backend, references)
 * @param note         what a reader must know to compare it (threads, batch, what is included), or empty
 */
public record Result(String kind, String name, Map<String, Integer> params, String shape, String impl, String device, String deviceName,
        int runs, double medianMs, double p25Ms, double p75Ms, double minMs, double maxMs, double gflops, double gbps, double peakFraction,
        double compileMs, double kernelMs, double transferMs, String note) {

    /** A result without profiler figures. */
    public static Result of(Case c, String impl, String device, String deviceName, Stats s, Peaks peaks, String note) {
        return of(c, impl, device, deviceName, s, peaks, Double.NaN, Double.NaN, Double.NaN, note);
    }

    public static Result of(Case c, String impl, String device, String deviceName, Stats s, Peaks peaks, double compileMs, double kernelMs,
            double transferMs, String note) {
        double seconds = s.medianMs() / 1e3;
        double gflops = c.flops() > 0 ? c.flops() / seconds / 1e9 : Double.NaN;
        double gbps = c.bytes() > 0 ? c.bytes() / seconds / 1e9 : Double.NaN;
        return new Result(c.kind(), c.name(), c.params(), c.shape(), impl, device, deviceName, s.runs(), s.medianMs(), s.p25Ms(), s.p75Ms(),
                s.minMs(), s.maxMs(), gflops, gbps, peaks == null ? Double.NaN : peaks.fraction(gflops, gbps), compileMs, kernelMs, transferMs,
                note);
    }

    /** The interquartile range as a share of the median ({@link Stats#spread()}). */
    public double spread() {
        return Stats.spread(medianMs, p25Ms, p75Ms);
    }

    /** Whether the median can be trusted ({@link Stats#stable()}): the report marks the cases that are not. */
    public boolean stable() {
        return Stats.stable(medianMs, p25Ms, p75Ms, minMs);
    }

    /** Throughput for plots and tables: GFLOP/s where the case counts flops, else GB/s. */
    public double throughput() {
        return Double.isNaN(gflops) ? gbps : gflops;
    }

    public String unit() {
        return Double.isNaN(gflops) ? "GB/s" : "GFLOP/s";
    }
}
