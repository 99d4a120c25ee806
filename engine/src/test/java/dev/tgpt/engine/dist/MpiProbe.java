package dev.tgpt.engine.dist;

import java.util.Arrays;

import dev.tgpt.engine.Slab;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Run under mpirun by {@link MpiTest}. Mode {@code check}: every {@link Collective} call, on plain arrays and on a slab
 * view, with sizes that cross the buckets (the test makes them small); values are small integers, so every sum is
 * exact. Prints OK lines; exits 1 on a wrong result. Mode {@code hang}: rank 0 all-reduces while the others sleep.
 */
public final class MpiProbe {

    private static Collective c;

    private MpiProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        c = Ranks.fromEnvironment();
        if (args.length > 0 && args[0].equals("hang")) {
            if (c.rank() != 0) {
                Thread.sleep(Long.MAX_VALUE);
            }
            c.allReduceSum(new FloatArray(10), 0, 10);
            System.out.println("rank 0: the all-reduce returned without the other ranks");
            System.exit(3);
        }
        check(c == Ranks.fromEnvironment(), "fromEnvironment gives one instance");
        check(c.size() > 1 && c.rank() < c.size(), "rank " + c.rank() + " of " + c.size());

        Slab slab = new Slab(5, 3_000_001, 7);
        for (FloatArray a : new FloatArray[] { new FloatArray(250_003), slab.view(1) }) {
            allReduce(a, 0, a.getSize());
            allReduce(a, 5, a.getSize() - 12);
            broadcast(a, 3, a.getSize() - 4);
            long[] even = c.shards(9, a.getSize() - 20);
            long[] firstEmpty = even.clone();
            firstEmpty[1] = firstEmpty[0];
            for (long[] starts : new long[][] { even, firstEmpty }) {
                reduceScatter(a, starts);
                allGather(a, starts);
            }
        }
        check(Arrays.stream(new float[][] { slab.view(0).toHeapArray(), slab.view(2).toHeapArray() })
                .allMatch(v -> Arrays.equals(v, new float[v.length])), "the slab's other views untouched");
        allReduceDoubles(120_001);
        broadcastBytes(1_000_003);
        jvmStillTrapsNullPointers();
        c.close();
        c.close();
        ok("close, twice");
    }

    /** Rank r's value at i: (r + 1) * (i % 13 + 1); the sum over ranks is (i % 13 + 1) * n(n+1)/2. */
    private static void allReduce(FloatArray a, long from, long count) {
        int n = c.size();
        for (int i = 0; i < a.getSize(); i++) {
            a.set(i, (c.rank() + 1) * (i % 13 + 1));
        }
        c.allReduceSum(a, from, count);
        for (int i = 0; i < a.getSize(); i++) {
            boolean in = i >= from && i < from + count;
            float want = (i % 13 + 1) * (in ? n * (n + 1) / 2 : c.rank() + 1);
            check(a.get(i) == want, "allReduceSum at " + i + ": " + a.get(i) + " != " + want);
        }
        ok("allReduceSum of " + count + " from " + from + " in " + a.getSize());
    }

    private static void broadcast(FloatArray a, long from, long count) {
        int root = c.size() - 1;
        for (int i = 0; i < a.getSize(); i++) {
            a.set(i, c.rank() == root ? i % 1000 : -1);
        }
        c.broadcast(a, from, count, root);
        for (int i = 0; i < a.getSize(); i++) {
            boolean in = i >= from && i < from + count;
            float want = in || c.rank() == root ? i % 1000 : -1;
            check(a.get(i) == want, "broadcast at " + i + ": " + a.get(i) + " != " + want);
        }
        ok("broadcast of " + count + " from " + from + " in " + a.getSize());
    }

    private static void reduceScatter(FloatArray a, long[] starts) {
        int n = c.size();
        for (int i = 0; i < a.getSize(); i++) {
            a.set(i, (c.rank() + 1) * (i % 13 + 1));
        }
        c.reduceScatterSum(a, starts);
        for (long i = starts[c.rank()]; i < starts[c.rank() + 1]; i++) {
            float want = (i % 13 + 1) * n * (n + 1) / 2;
            check(a.get((int) i) == want, "reduceScatterSum at " + i + ": " + a.get((int) i) + " != " + want);
        }
        ok("reduceScatterSum over " + Arrays.toString(starts));
    }

    /** Rank r's shard holds r * 1000 + i % 997, everything else -7 before the call. */
    private static void allGather(FloatArray a, long[] starts) {
        for (int i = 0; i < a.getSize(); i++) {
            a.set(i, i >= starts[c.rank()] && i < starts[c.rank() + 1] ? c.rank() * 1000 + i % 997 : -7);
        }
        c.allGather(a, starts);
        int owner = 0;
        for (int i = 0; i < a.getSize(); i++) {
            while (owner < c.size() && i >= starts[owner + 1]) {
                owner++;
            }
            float want = i >= starts[0] && owner < c.size() ? owner * 1000 + i % 997 : -7;
            check(a.get(i) == want, "allGather at " + i + ": " + a.get(i) + " != " + want);
        }
        ok("allGather over " + Arrays.toString(starts));
    }

    private static void allReduceDoubles(int length) {
        int n = c.size();
        double[] v = new double[length];
        Arrays.setAll(v, i -> (c.rank() + 1) * (i + 0.5));
        c.allReduceSum(v);
        for (int i = 0; i < length; i++) {
            check(v[i] == (i + 0.5) * n * (n + 1) / 2, "allReduceSum(double[]) at " + i + ": " + v[i]);
        }
        ok("allReduceSum of " + length + " doubles");
    }

    private static void broadcastBytes(int length) {
        byte[] b = new byte[length];
        byte[] want = new byte[length];
        for (int i = 0; i < length; i++) {
            want[i] = (byte) (i * 7);
        }
        if (c.rank() == 0) {
            System.arraycopy(want, 0, b, 0, length);
        }
        c.broadcast(b, 0);
        check(Arrays.equals(b, want), "broadcast of bytes");
        ok("broadcast of " + length + " bytes");
    }

    /** Open MPI installs signal handlers; the JVM's own (compiled code's null checks trap SIGSEGV) must still work. */
    private static void jvmStillTrapsNullPointers() {
        String[] s = { "x", null };
        int sum = 0;
        int caught = 0;
        for (int i = 0; i < 200_000; i++) {
            try {
                sum += length(s[i % 1000 == 999 ? 1 : 0]);
            } catch (NullPointerException e) {
                caught++;
            }
        }
        check(caught == 200 && sum == 199_800, "null pointers caught: " + caught + ", lengths " + sum);
        ok("the JVM's null checks");
    }

    private static int length(String s) {
        return s.length();
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("rank " + c.rank() + ": WRONG: " + what);
            System.out.flush();
            System.exit(1);
        }
    }

    private static void ok(String what) {
        System.out.println("rank " + c.rank() + ": OK " + what);
    }
}
