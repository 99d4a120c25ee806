package dev.tgpt.bench;

import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.engine.ops.GeluOps;
import dev.tgpt.engine.ops.LayerNormOps;
import dev.tgpt.engine.ops.SoftmaxOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The memory-bound ops on the JVM backend (layernorm, softmax, GELU, cross-entropy; forward and backward, through their
 * launches in a session, as a model runs them) against the machine's memory bandwidth, measured in the same run by
 * STREAM's copy and triad on arrays far larger than the caches, with the same threads. An op's GB/s counts the least
 * traffic it needs (each input read once, each output written once, an accumulated gradient read and written), so the
 * fraction of STREAM's bandwidth says how close it comes to memory speed. Median of 15 runs after 2 s of warm-up runs.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp app/target/tgpt-jvm.jar dev.tgpt.bench.BandwidthBench</pre>
 */
public final class BandwidthBench {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /**
     * Untimed runs first, for this long: until C2 has compiled the Vector API loops, they run the API's Java fallback,
     * many times slower, and on two cores C2 takes a while (a fixed count of runs was not always enough).
     */
    private static final long WARMUP_NANOS = 2_000_000_000L;

    private BandwidthBench() {
    }

    public static void main(String[] args) {
        JvmBackend jvm = new JvmBackend();
        System.out.printf(Locale.ROOT, "%s; %s; %d threads; Java %s, %d float lanes%n%n", LocalDate.now(), HostPeaks.cpu(), jvm.threads(),
                Runtime.version(), S.length());
        double stream = stream(jvm);
        System.out.println("| op | shape | ms | GB/s | of STREAM copy |");
        System.out.println("|---|---|---:|---:|---:|");
        Random r = new Random(1);
        // GPT-2 small at B = 8, T = 1024: N = 8192 rows of C = 768; attention rows of T = 1024 for one sequence's 12 heads
        int N = 8192;
        int C = 768;
        FloatArray x = Checks.random(r, N * C, 1f);
        FloatArray w = Checks.random(r, C, 1f);
        FloatArray b = Checks.random(r, C, 1f);
        FloatArray y = new FloatArray(N * C);
        FloatArray mean = new FloatArray(N);
        FloatArray rstd = new FloatArray(N);
        FloatArray dy = Checks.random(r, N * C, 1f);
        FloatArray dx = new FloatArray(N * C);
        String ln = N + " × " + C;
        report(jvm, stream, "layernorm forward", ln, List.of(LayerNormOps.forward(y, mean, rstd, x, w, b, N, C)), 2L * N * C * 4);
        report(jvm, stream, "layernorm backward", ln, LayerNormOps.backward(dx, new FloatArray(C), new FloatArray(C), dy, x, w, mean, rstd, N, C),
                4L * N * C * 4);

        int rows = 12 * 1024;
        int T = 1024;
        FloatArray scores = Checks.random(r, rows * T, 1f);
        FloatArray probs = new FloatArray(rows * T);
        FloatArray dprobs = Checks.random(r, rows * T, 1f);
        FloatArray dscores = new FloatArray(rows * T);
        String sm = rows + " × " + T + ", causal";
        report(jvm, stream, "softmax forward", sm, List.of(SoftmaxOps.forward(probs, scores, 0.125f, rows, T, true)), 2L * rows * T * 4);
        report(jvm, stream, "softmax backward", sm, List.of(SoftmaxOps.backward(dscores, dprobs, probs, 0.125f, rows, T, true)),
                4L * rows * T * 4);

        int n = N * 4 * C;
        FloatArray h = Checks.random(r, n, 1f);
        FloatArray g = new FloatArray(n);
        FloatArray dg = Checks.random(r, n, 1f);
        FloatArray dh = new FloatArray(n);
        String gl = N + " × " + 4 * C;
        report(jvm, stream, "gelu forward", gl, List.of(GeluOps.forward(g, h, n)), 2L * n * 4);
        report(jvm, stream, "gelu backward", gl, List.of(GeluOps.backward(dh, dg, h, n)), 4L * n * 4);

        // GPT-2's vocabulary: forward and backward together read the logits twice and dlogits once, and write dlogits
        int rowsV = 1024;
        int V = 50257;
        FloatArray logits = Checks.random(r, rowsV * V, 1f);
        IntArray targets = new IntArray(rowsV);
        for (int i = 0; i < rowsV; i++) {
            targets.set(i, r.nextInt(V));
        }
        FloatArray losses = new FloatArray(rowsV);
        FloatArray logSumExp = new FloatArray(rowsV);
        FloatArray dloss = new FloatArray(rowsV);
        dloss.init(1f / rowsV);
        FloatArray dlogits = new FloatArray(rowsV * V);
        report(jvm, stream, "cross-entropy forward + backward", rowsV + " × " + V,
                List.of(CrossEntropyOps.forward(losses, logSumExp, logits, targets, rowsV, V),
                        CrossEntropyOps.backward(dlogits, logits, logSumExp, targets, dloss, rowsV, V)),
                4L * rowsV * V * 4);
    }

    private static void report(JvmBackend jvm, double stream, String op, String shape, List<Launch> launches, long bytes) {
        Program p = new Program("bench");
        launches.forEach(p::add);
        try (Session s = jvm.open(p)) {
            for (long t0 = System.nanoTime(); System.nanoTime() - t0 < WARMUP_NANOS;) {
                s.run(p);
            }
            double t = BenchTiming.median(() -> s.run(p), 0, 15);
            double gbs = bytes / t / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.1f | %.2f |%n", op, shape, t * 1e3, gbs, gbs / stream);
        }
    }

    /** STREAM copy and triad, printed; returns copy's GB/s. */
    private static double stream(JvmBackend jvm) {
        double copy = HostPeaks.streamCopy(jvm);
        System.out.printf(Locale.ROOT, "STREAM copy %.1f GB/s, triad %.1f GB/s (128 MiB arrays)%n%n", copy, HostPeaks.streamTriad(jvm));
        return copy;
    }
}
