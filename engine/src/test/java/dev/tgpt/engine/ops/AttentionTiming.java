package dev.tgpt.engine.ops;

import java.util.Locale;
import java.util.Random;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.kernels.Attention;
import dev.tgpt.kernels.AttentionVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Times the JVM backend's attention, forward and backward, Vector API twin against the scalar kernel rows (the device
 * kernels' helpers, one row per call), on all cores. Not a test: run by hand, with the test class path,
 * {@code java --add-modules jdk.incubator.vector -cp ... dev.tgpt.engine.ops.AttentionTiming [B T C NH]...}.
 */
public final class AttentionTiming {

    private AttentionTiming() {
    }

    public static void main(String[] args) {
        int[][] shapes = args.length == 0 ? new int[][] { { 32, 64, 128, 4 }, { 4, 1024, 768, 12 } } : parse(args);
        JvmBackend jvm = new JvmBackend();
        System.out.println("threads " + jvm.threads() + ", vector lanes " + jvm.info().simdFloats());
        for (int[] s : shapes) {
            time(jvm, s[0], s[1], s[2], s[3]);
        }
    }

    private static void time(JvmBackend jvm, int B, int T, int C, int NH) {
        Random r = new Random(1);
        int rows = B * NH * T;
        FloatArray qkv = Checks.random(r, B * T * 3 * C, 1f);
        FloatArray dout = Checks.random(r, B * T * C, 1f);
        FloatArray out = new FloatArray(B * T * C);
        FloatArray att = new FloatArray(rows * T);
        FloatArray dpreatt = new FloatArray(rows * T);
        FloatArray dqkv = new FloatArray(B * T * 3 * C);
        // Fewer repetitions where a scalar pass takes seconds.
        int reps = (long) rows * T * C / NH > 100_000_000L ? 3 : 50;
        double scalarFwd = best(reps, () -> jvm.parallelFor(rows, i -> Attention.attentionForwardRow(out, att, qkv, i, T, C, NH)));
        double vectorFwd = best(reps, () -> jvm.parallelFor(B * NH, bh -> AttentionVector.forward(out, att, qkv, bh, T, C, NH)));
        double scalarBwd = best(reps, () -> {
            jvm.parallelFor(rows, i -> Attention.attentionBackwardQueryRow(dqkv, dpreatt, dout, qkv, att, i, T, C, NH));
            jvm.parallelFor(rows, i -> {
                for (int c = 0; c < C / NH; c++) {
                    Attention.keyValueGrad(dqkv, dpreatt, dout, qkv, att, i, c, T, C, NH);
                }
            });
        });
        double vectorBwd = best(reps, () -> {
            jvm.parallelFor(B * NH, bh -> AttentionVector.backwardQuery(dqkv, dpreatt, dout, qkv, att, bh, T, C, NH));
            jvm.parallelFor(B * NH, bh -> AttentionVector.backwardKeyValue(dqkv, dpreatt, dout, qkv, att, bh, T, C, NH));
        });
        System.out.printf(Locale.ROOT, "B=%d T=%d C=%d NH=%d: forward scalar %8.2f ms, vector %7.2f ms (%4.1fx); "
                + "backward scalar %8.2f ms, vector %7.2f ms (%4.1fx)%n", B, T, C, NH, scalarFwd, vectorFwd, scalarFwd / vectorFwd,
                scalarBwd, vectorBwd, scalarBwd / vectorBwd);
    }

    /**
     * The best wall time in ms of reps runs, after warming up for at least 2 s (JIT compilation). The best, not the
     * median, because other processes share this machine's cores.
     */
    private static double best(int reps, Runnable run) {
        long warm = System.nanoTime();
        for (int i = 0; i < 2 || System.nanoTime() - warm < 2_000_000_000L; i++) {
            run.run();
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            run.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    private static int[][] parse(String[] args) {
        int[][] shapes = new int[args.length / 4][];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = new int[4];
            for (int j = 0; j < 4; j++) {
                shapes[i][j] = Integer.parseInt(args[4 * i + j]);
            }
        }
        return shapes;
    }
}
