package dev.tgpt.engine;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The JVM backend's threads: the thread that runs a parallel loop and {@code size − 1} workers take its chunks in
 * turn. Between loops the workers spin for up to {@link #SPIN_NANOS} before they park, as OpenMP runtimes do
 * (PyTorch's, OpenBLAS's, llm.c's): a park/unpark round trip took 40–60 µs on the 2-core VM measured, longer than
 * most launches of a small model take, so with parking the second core sped a training step's small matmuls up by
 * only ~20%.
 *
 * <p>One loop runs at a time. A loop started while another runs (from another thread, or nested inside a chunk)
 * runs on its own thread: same chunks, same results. Chunks are fixed ranges, so which thread runs one never
 * changes what it computes.
 */
final class ThreadTeam {

    /** How long an idle worker spins before it parks: covers the host's work between a step's launches and programs. */
    static final long SPIN_NANOS = 1_000_000;

    /** One parallel loop: chunks are taken in order by whichever member gets there first. */
    private static final class Job {
        final JvmBackend.Range body;
        final int n;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(JvmBackend.Range body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Runs chunks until none are left; after a failure the rest are skipped (but counted). */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; done.incrementAndGet()) {
                if (failure != null) {
                    continue;
                }
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    failure = t;
                }
            }
        }
    }

    private final int size;
    private final boolean spin;
    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job job;
    /** Workers that may be parked: a loop unparks them when this is non-zero (written before parking, Dekker-style). */
    private final AtomicInteger sleepers = new AtomicInteger();

    ThreadTeam(int size) {
        this.size = size;
        // Spinning threads beyond the cores would take turns with the ones doing the work.
        this.spin = size <= Runtime.getRuntime().availableProcessors();
        this.workers = new Thread[size - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("tgpt-jvm-" + (i + 1) + "/" + size).start(this::serve);
        }
    }

    int size() {
        return size;
    }

    /** Runs body over [0, n) in {@code chunks} contiguous chunks across the team; rethrows a chunk's failure as it was. */
    void run(int n, int chunks, JvmBackend.Range body) {
        if (workers.length == 0 || !busy.compareAndSet(false, true)) {
            for (int c = 0; c < chunks; c++) {
                body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
            }
            return;
        }
        Job j = new Job(body, n, chunks);
        try {
            job = j;
            if (sleepers.get() > 0) {
                for (Thread w : workers) {
                    LockSupport.unpark(w);
                }
            }
            j.work();
            while (j.done.get() < chunks) {
                Thread.onSpinWait();
            }
        } finally {
            busy.set(false);
        }
        Throwable t = j.failure;
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** A worker: takes chunks of each new job; spins, then parks, while there is none. */
    private void serve() {
        Job last = null;
        while (true) {
            Job j = job;
            long idleSince = System.nanoTime();
            while (j == last) {
                if (spin && System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    sleepers.incrementAndGet();
                    if (job == last) {
                        LockSupport.park(this);
                    }
                    sleepers.decrementAndGet();
                    idleSince = System.nanoTime();
                }
                j = job;
            }
            last = j;
            j.work();
        }
    }
}
