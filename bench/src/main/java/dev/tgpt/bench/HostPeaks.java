package dev.tgpt.bench;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteOrder;
import java.util.Locale;

import dev.tgpt.engine.JvmBackend;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The CPU's peaks as this JVM reaches them, measured on the backend's threads: float32 FMAs in registers (eight
 * independent chains per thread, enough to hide the FMA latency on current x86 and Arm cores) and STREAM's copy and
 * triad on arrays far larger than the caches.
 */
public final class HostPeaks {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private HostPeaks() {
    }

    public static Peaks measure(JvmBackend jvm) {
        double copy = streamCopy(jvm);
        double flops = fma(jvm);
        return new Peaks(flops, copy, String.format(Locale.ROOT, "measured: FMA loop %.0f GFLOP/s, STREAM copy %.1f GB/s (%d threads, %d float lanes)",
                flops, copy, jvm.threads(), S.length()));
    }

    /** STREAM copy (b = a) on 128 MiB arrays, in GB/s (8 bytes moved per element). */
    public static double streamCopy(JvmBackend jvm) {
        int n = 32 << 20;
        FloatArray a = new FloatArray(n);
        FloatArray b = new FloatArray(n);
        a.init(1f);
        double s = BenchTiming.median(() -> jvm.parallelRange(n, (from, to) -> MemorySegment.copy(a.getSegment(), 4L * from, b.getSegment(), 4L * from,
                4L * (to - from))), 2, 10);
        return 8.0 * n / s / 1e9;
    }

    /** STREAM triad (a = b + 3·c) on 128 MiB arrays, in GB/s (12 bytes per element). */
    public static double streamTriad(JvmBackend jvm) {
        int n = 32 << 20;
        FloatArray a = new FloatArray(n);
        FloatArray b = new FloatArray(n);
        FloatArray c = new FloatArray(n);
        b.init(1f);
        c.init(2f);
        double s = BenchTiming.median(() -> jvm.parallelRange(n, (from, to) -> {
            MemorySegment sa = a.getSegment();
            MemorySegment sb = b.getSegment();
            MemorySegment sc = c.getSegment();
            int i = from;
            for (; i <= to - S.length(); i += S.length()) {
                FloatVector.fromMemorySegment(S, sb, 4L * i, ORDER).add(FloatVector.fromMemorySegment(S, sc, 4L * i, ORDER).mul(3f))
                        .intoMemorySegment(sa, 4L * i, ORDER);
            }
            for (; i < to; i++) {
                a.set(i, b.get(i) + 3f * c.get(i));
            }
        }), 2, 10);
        return 12.0 * n / s / 1e9;
    }

    /** The sum of the floats of m in [from, to): 4 vector sums in flight, so that reading, not adding, bounds it. */
    static float sum(MemorySegment m, long from, long to) {
        int L = S.length();
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        long i = from;
        for (; i + 4L * L <= to; i += 4L * L) {
            s0 = s0.add(FloatVector.fromMemorySegment(S, m, 4 * i, ORDER));
            s1 = s1.add(FloatVector.fromMemorySegment(S, m, 4 * (i + L), ORDER));
            s2 = s2.add(FloatVector.fromMemorySegment(S, m, 4 * (i + 2L * L), ORDER));
            s3 = s3.add(FloatVector.fromMemorySegment(S, m, 4 * (i + 3L * L), ORDER));
        }
        float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < to; i++) {
            sum += m.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
        }
        return sum;
    }

    /** GFLOP/s of FMAs on every thread: 2 flops per lane per FMA. */
    static double fma(JvmBackend jvm) {
        int threads = jvm.threads();
        long iterations = 20_000_000L;
        float[] sink = new float[threads];
        java.lang.Runnable run = () -> jvm.parallelFor(threads, t -> sink[t] = fmaChains(iterations));
        for (int i = 0; i < 3; i++) {
            run.run(); // C2 compiles the loop
        }
        double s = BenchTiming.median(run, 0, 5);
        return 2.0 * 8 * S.length() * iterations * threads / s / 1e9;
    }

    private static float fmaChains(long iterations) {
        FloatVector x = FloatVector.broadcast(S, 0.999f);
        FloatVector y = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(x, y);
            a1 = a1.fma(x, y);
            a2 = a2.fma(x, y);
            a3 = a3.fma(x, y);
            a4 = a4.fma(x, y);
            a5 = a5.fma(x, y);
            a6 = a6.fma(x, y);
            a7 = a7.fma(x, y);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** The CPU's model name, for reports. */
    public static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(System.getProperty("os.arch"));
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }
}
