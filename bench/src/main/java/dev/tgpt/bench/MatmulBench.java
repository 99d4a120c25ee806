package dev.tgpt.bench;

import java.time.LocalDate;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.ops.MatmulOps;
import jdk.incubator.vector.FloatVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's matmul (MatmulVector through MatmulOps and a JvmBackend session: what a user runs) beside
 * OpenBLAS's cblas_sgemm on the same arrays and as many threads, side by side in one process. Per shape and
 * product: one run of each compared (they must agree), warm-up, then rounds of {@code per} timed runs of ours and
 * {@code per} of OpenBLAS, with a pause between (OpenBLAS's threads spin for a while after a call and would steal
 * our cores); median GFLOP/s of each, and ours / OpenBLAS. Forward runs without bias, so both do the same GEMM.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp app/target/tgpt-jvm.jar \
 *     dev.tgpt.bench.MatmulBench [--threads=T] [--rounds=R] [--per=P] [--shapes=NxCxOC,...]</pre>
 */
public final class MatmulBench {

    /** N, C, OC: a 1024³ GEMM, then GPT-2 small's layers at N = 1024 rows (qkv, attention proj, fc, fc proj). */
    static final int[][] SHAPES = { { 1024, 1024, 1024 }, { 1024, 768, 2304 }, { 1024, 768, 768 }, { 1024, 768, 3072 },
            { 1024, 3072, 768 } };

    private MatmulBench() {
    }

    public static void main(String[] args) throws InterruptedException {
        try {
            run(args);
        } catch (UserError e) {
            System.err.println("MatmulBench: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) throws InterruptedException {
        int threads = Runtime.getRuntime().availableProcessors();
        int rounds = 5;
        int per = 5;
        int[][] shapes = SHAPES;
        for (String a : args) {
            if (a.startsWith("--threads=")) {
                threads = Integer.parseInt(a.substring(10));
            } else if (a.startsWith("--rounds=")) {
                rounds = Integer.parseInt(a.substring(9));
            } else if (a.startsWith("--per=")) {
                per = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("--shapes=")) {
                shapes = Arrays.stream(a.substring(9).split(",")).map(s -> Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray())
                        .toArray(int[][]::new);
            } else {
                throw new UserError("unknown argument " + a + " (--threads=T --rounds=R --per=P --shapes=NxCxOC,...)");
            }
        }
        OpenBlas blas = OpenBlas.load();
        blas.threads(threads);
        JvmBackend jvm = new JvmBackend(threads);
        System.out.printf(Locale.ROOT, "%s; %s; %d cores; Java %s (%s), %d float lanes%n", LocalDate.now(), HostPeaks.cpu(),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), System.getProperty("java.vm.name"),
                FloatVector.SPECIES_PREFERRED.length());
        System.out.printf(Locale.ROOT, "ours: MatmulVector on the JVM backend, %d threads; OpenBLAS: %s (%s), %d threads%n", jvm.threads(),
                blas.path, blas.config().trim(), blas.threads());
        System.out.printf(Locale.ROOT, "median of %d runs each (%d rounds of %d), GFLOP/s = 2·N·C·OC / time%n%n", rounds * per, rounds, per);
        System.out.println("| N × C × OC | product | ours ms | ours GFLOP/s | OpenBLAS ms | OpenBLAS GFLOP/s | ours / OpenBLAS |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        for (int[] s : shapes) {
            for (Product p : Product.values()) {
                row(jvm, blas, p, s[0], s[1], s[2], rounds, per);
            }
        }
    }

    enum Product {
        FORWARD("forward: out = inp·Wᵀ"), BACKWARD_INPUT("backward: dinp += dout·W"), BACKWARD_WEIGHT("backward: dW += doutᵀ·inp");

        final String label;

        Product(String label) {
            this.label = label;
        }
    }

    private static void row(JvmBackend jvm, OpenBlas blas, Product p, int N, int C, int OC, int rounds, int per) throws InterruptedException {
        Random r = new Random(1);
        FloatArray inp = Checks.random(r, N * C, 1f);
        FloatArray w = Checks.random(r, OC * C, 1f);
        FloatArray dout = Checks.random(r, N * OC, 1f);
        FloatArray out = Checks.random(r, p == Product.BACKWARD_INPUT ? N * C : p == Product.BACKWARD_WEIGHT ? OC * C : N * OC, 1f);
        FloatArray check = copy(out);
        Launch launch = switch (p) {
            case FORWARD -> MatmulOps.forward(out, inp, w, null, N, C, OC);
            case BACKWARD_INPUT -> MatmulOps.backwardInput(out, dout, w, N, C, OC);
            case BACKWARD_WEIGHT -> MatmulOps.backwardWeight(out, dout, inp, N, C, OC);
        };
        Runnable theirs = switch (p) {
            case FORWARD -> () -> blas.sgemm(false, true, N, OC, C, inp.getSegment(), C, w.getSegment(), C, 0f, check.getSegment(), OC);
            case BACKWARD_INPUT -> () -> blas.sgemm(false, false, N, C, OC, dout.getSegment(), OC, w.getSegment(), C, 1f, check.getSegment(), C);
            case BACKWARD_WEIGHT -> () -> blas.sgemm(true, false, OC, C, N, dout.getSegment(), OC, inp.getSegment(), C, 1f, check.getSegment(), C);
        };
        Program program = new Program("bench").add(launch);
        try (Session session = jvm.open(program)) {
            Runnable ours = () -> session.run(program);
            ours.run();
            theirs.run();
            double diff = relativeDifference(out, check);
            if (!(diff < 1e-4)) {
                throw new IllegalStateException(p + " " + N + "x" + C + "x" + OC + ": ours and OpenBLAS differ by " + diff);
            }
            for (int i = 0; i < 3; i++) {
                ours.run();
                theirs.run();
            }
            double[] tOurs = new double[rounds * per];
            double[] tTheirs = new double[rounds * per];
            for (int round = 0; round < rounds; round++) {
                Thread.sleep(250);
                BenchTiming.time(ours, tOurs, round * per, per);
                Thread.sleep(250);
                BenchTiming.time(theirs, tTheirs, round * per, per);
            }
            double flop = 2.0 * N * C * OC;
            double mOurs = BenchTiming.median(tOurs);
            double mTheirs = BenchTiming.median(tTheirs);
            System.out.printf(Locale.ROOT, "| %d × %d × %d | %s | %.2f | %.1f | %.2f | %.1f | %.2f |%n", N, C, OC, p.label, mOurs * 1e3,
                    flop / mOurs / 1e9, mTheirs * 1e3, flop / mTheirs / 1e9, mTheirs / mOurs);
        }
    }

    private static FloatArray copy(FloatArray a) {
        FloatArray b = new FloatArray(a.getSize());
        b.getSegment().copyFrom(a.getSegment());
        return b;
    }

    /** max |a − b| / max |b|. */
    private static double relativeDifference(FloatArray a, FloatArray b) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < a.getSize(); i++) {
            diff = Math.max(diff, Math.abs(a.get(i) - b.get(i)));
            ref = Math.max(ref, Math.abs(b.get(i)));
        }
        return diff / ref;
    }
}
