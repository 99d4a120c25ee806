package dev.tgpt.bench;

/**
 * A device's peak float32 throughput and memory bandwidth, against which results are given as a fraction. On the CPU
 * both are measured in the same run (an FMA loop in registers on every thread; STREAM copy); for GPUs they are the
 * vendor's figures where the device is known, else unknown (NaN).
 *
 * @param source how the figures were obtained, for the report
 */
public record Peaks(double gflops, double gbps, String source) {

    public static final Peaks UNKNOWN = new Peaks(Double.NaN, Double.NaN, "unknown");

    /** The larger fraction of peak, compute or memory: the bound that the case is nearer to. */
    double fraction(double caseGflops, double caseGbps) {
        double f = Double.NaN;
        if (!Double.isNaN(caseGflops) && !Double.isNaN(gflops)) {
            f = caseGflops / gflops;
        }
        if (!Double.isNaN(caseGbps) && !Double.isNaN(gbps)) {
            f = Double.isNaN(f) ? caseGbps / gbps : Math.max(f, caseGbps / gbps);
        }
        return f;
    }

    /** Vendor peaks of GPUs TornadoVM may list, by a part of their name (float32 without tensor cores; HBM). */
    public static Peaks known(String deviceName) {
        String n = deviceName.toUpperCase(java.util.Locale.ROOT);
        if (n.contains("H100") && n.contains("PCIE")) {
            return new Peaks(51_200, 2_000, "NVIDIA H100 PCIe datasheet");
        }
        if (n.contains("H100")) {
            return new Peaks(66_900, 3_350, "NVIDIA H100 SXM datasheet");
        }
        if (n.contains("H200")) {
            return new Peaks(66_900, 4_800, "NVIDIA H200 SXM datasheet");
        }
        return UNKNOWN;
    }
}
