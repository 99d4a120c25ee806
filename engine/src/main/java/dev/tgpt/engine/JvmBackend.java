package dev.tgpt.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
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
                // The launches run on one of the pool's threads, which forks each launch's chunks and works on them
                // itself: handing every launch over from an outside thread (and parking that thread until it is
                // done) cost ~0.1 ms a launch, more than a small model's element-wise launches take.
                // A failure is rethrown as it is (a join in another thread may wrap it in a copy).
                RuntimeException[] failure = new RuntimeException[1];
                pool.invoke(ForkJoinTask.adapt(() -> {
                    try {
                        for (Launch l : program.launches) {
                            l.jvm().accept(JvmBackend.this);
                        }
                    } catch (RuntimeException e) {
                        failure[0] = e;
                    }
                }));
                if (failure[0] != null) {
                    throw failure[0];
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

    /** A contiguous part [from, to) of a parallel loop. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * Runs body over [0, n) in contiguous chunks across the pool's threads. Element-wise launches loop inside the body,
     * where the JIT inlines (and can vectorise) the kernel's helper; one call per element would not inline.
     */
    public void parallelRange(int n, Range body) {
        split(n, body, SERIAL);
    }

    /** Below this many elements an element-wise loop runs on the calling thread: handing it to the pool costs more. */
    private static final int SERIAL = 4096;

    private void split(int n, Range body, int serialBelow) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(n, threads() * 4);
        if (chunks == 1 || n < serialBelow) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Chunks(body, n, 0, chunks, chunks));
    }

    private static final class Chunks extends RecursiveAction {
        private final Range body;
        private final int n;
        private final int from;
        private final int to;
        private final int chunks;

        Chunks(Range body, int n, int from, int to, int chunks) {
            this.body = body;
            this.n = n;
            this.from = from;
            this.to = to;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.run((int) ((long) n * from / chunks), (int) ((long) n * to / chunks));
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Chunks(body, n, from, mid, chunks), new Chunks(body, n, mid, to, chunks));
        }
    }

    /** Runs body(i) for i in [0, n) (a row, a head, a column: work worth a call each) across the pool's threads. */
    public void parallelFor(int n, IntConsumer body) {
        split(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                body.accept(i);
            }
        }, 2);
    }
}
