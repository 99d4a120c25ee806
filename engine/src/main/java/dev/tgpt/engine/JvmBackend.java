package dev.tgpt.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;

/**
 * The pure-JVM backend, the default when no TornadoVM GPU is present: kernels' row helpers and Vector API twins
 * run on a pool of one thread per core.
 */
public final class JvmBackend implements Backend {

    /** One pool per thread count, shared by every backend of that size (the common pool would add the caller's thread). */
    private static final Map<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();

    private final ForkJoinPool pool;

    public JvmBackend(int threads) {
        if (threads < 1) {
            throw new UserError("the JVM backend needs at least 1 thread, not " + threads);
        }
        pool = POOLS.computeIfAbsent(threads, ForkJoinPool::new);
    }

    public JvmBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return pool.getParallelism();
    }

    @Override
    public DeviceInfo info() {
        return new DeviceInfo("jvm", "jvm", "JVM backend (" + System.getProperty("java.vm.name") + " " + Runtime.version() + ", "
                + System.getProperty("os.arch") + ")", "CPU", Runtime.getRuntime().maxMemory(), threads(),
                FloatVector.SPECIES_PREFERRED.length());
    }

    @Override
    public Session open(Program... programs) {
        return new Session() {
            private Profile profile = Profile.NONE;

            @Override
            public void run(Program program) {
                long t0 = System.nanoTime();
                for (Launch l : program.launches) {
                    l.jvm().accept(JvmBackend.this);
                }
                long t = System.nanoTime() - t0;
                profile = new Profile(t, 0, t, 0);
            }

            @Override
            public void read(Object... arrays) {
                // host and device memory are one here
            }

            @Override
            public Profile profile() {
                return profile;
            }

            @Override
            public void close() {
            }
        };
    }

    /** Runs body(i) for i in [0, n), split into contiguous chunks across the pool's threads. */
    public void parallelFor(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(n, threads() * 4);
        if (chunks == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        pool.invoke(new Range(body, n, 0, chunks));
    }

    /** Chunks [from, to) of n split into `chunks` near-equal parts, forked in halves. */
    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int n;
        private final int from;
        private final int to;
        private final int chunks;

        Range(IntConsumer body, int n, int from, int to, int chunks) {
            this.body = body;
            this.n = n;
            this.from = from;
            this.to = to;
            this.chunks = chunks;
        }

        Range(IntConsumer body, int n, int from, int chunks) {
            this(body, n, from, chunks, chunks);
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                int start = (int) ((long) n * from / chunks);
                int end = (int) ((long) n * to / chunks);
                for (int i = start; i < end; i++) {
                    body.accept(i);
                }
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(body, n, from, mid, chunks), new Range(body, n, mid, to, chunks));
        }
    }
}
