package dev.tgpt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** What the benchmarks share: timing, medians, random inputs, the machine's description. */
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

    /** Uniform in [-1, 1). */
    static FloatArray random(Random r, int n) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, r.nextFloat() * 2 - 1);
        }
        return a;
    }

    static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(System.getProperty("os.arch"));
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }
}
