package dev.tgpt.engine.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * {@link Collective} on Open MPI's C library (libmpi.so.40) through the FFM API. Every float operation goes in
 * buckets of {@link #DEFAULT_BUCKET_FLOATS} (system property {@code tgpt.mpiBucketFloats}), which also keeps each
 * count within a C int. Calls from several threads are serialised; a watchdog ends the whole run when one call waits
 * longer than TGPT_RANK_TIMEOUT seconds (default 600) for the other ranks.
 */
public final class Mpi implements Collective {

    /**
     * 2M floats (8 MB): a 64 MB all-reduce took 330-575 ms on 2 local ranks, the same bytes in 1-16 MB buckets ~20 ms
     * (Open MPI serves messages of 32 MB and more from freshly mmap'ed memory).
     */
    public static final int DEFAULT_BUCKET_FLOATS = 2 << 20;

    static final String LIBRARY = "libmpi.so.40";

    /** MPI_THREAD_SERIALIZED and MPI_THREAD_MULTIPLE in Open MPI's (and MPICH's) mpi.h. */
    private static final int THREAD_SERIALIZED = 2;
    private static final int THREAD_MULTIPLE = 3;
    /** Seconds between MPI_Abort and halting this process, should MPI_Abort not end it. */
    private static final long ABORT_GRACE_MS = 3000;

    /**
     * The MPI handles used here. Open MPI's are the addresses of its predefined objects; MPICH's are C ints, which
     * would need {@link #LAYOUT} to be JAVA_INT and these fields to be ints. MPI_IN_PLACE is (void*) 1 in both.
     */
    record Handles(MemorySegment world, MemorySegment floatType, MemorySegment doubleType, MemorySegment byteType,
            MemorySegment sum) {

        static final MemoryLayout LAYOUT = ADDRESS;
        static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);

        static Handles of(SymbolLookup lib) {
            return new Handles(symbol(lib, "ompi_mpi_comm_world"), symbol(lib, "ompi_mpi_float"),
                    symbol(lib, "ompi_mpi_double"), symbol(lib, "ompi_mpi_byte"), symbol(lib, "ompi_mpi_op_sum"));
        }
    }

    private record Busy(String op, long since) {
    }

    @FunctionalInterface
    private interface Call {
        int invoke() throws Throwable;
    }

    private final Handles h;
    private final MethodHandle allreduce;
    private final MethodHandle bcast;
    private final MethodHandle reduceScatter;
    private final MethodHandle allgatherv;
    private final MethodHandle abort;
    private final MethodHandle finalizeMpi;
    private final int bucket;
    private final double timeout;
    private final int rank;
    private final int size;
    /** The thread support MPI_Init_thread provided (MPI_THREAD_*). */
    private final int threadLevel;
    private final Arena arena = Arena.ofShared();
    /** One bucket of floats: reduce-scatter's results and the staging of Java arrays. */
    private final MemorySegment scratch;
    private final MemorySegment counts;
    private final MemorySegment displs;
    private volatile Busy busy;
    /** "rank R of N", from the environment until MPI has said. */
    private volatile String who;
    private volatile boolean closed;
    /** Set when this rank ends the run itself (a timeout, a failure): it has said why already. */
    private volatile boolean ending;

    private Mpi() {
        timeout = configuredTimeout();
        bucket = Integer.getInteger("tgpt.mpiBucketFloats", DEFAULT_BUCKET_FLOATS);
        if (bucket < 2) {
            throw new IllegalArgumentException("tgpt.mpiBucketFloats must be 2 or more, not " + bucket);
        }
        SymbolLookup lib;
        try {
            // RTLD_LOCAL: Open MPI 4.1.4's plugins still find libmpi's symbols (mpi4py-style RTLD_GLOBAL not needed)
            lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UserError("this run has several ranks, but Open MPI's " + LIBRARY + " cannot be loaded: install"
                    + " Open MPI (Debian, Ubuntu: apt install openmpi-bin libopenmpi-dev)", e);
        }
        h = Handles.of(lib);
        MemoryLayout c = Handles.LAYOUT;
        allreduce = function(lib, "MPI_Allreduce", ADDRESS, ADDRESS, JAVA_INT, c, c, c);
        bcast = function(lib, "MPI_Bcast", ADDRESS, JAVA_INT, c, JAVA_INT, c);
        reduceScatter = function(lib, "MPI_Reduce_scatter", ADDRESS, ADDRESS, ADDRESS, c, c, c);
        allgatherv = function(lib, "MPI_Allgatherv", ADDRESS, JAVA_INT, c, ADDRESS, ADDRESS, ADDRESS, c, c);
        abort = function(lib, "MPI_Abort", c, JAVA_INT);
        finalizeMpi = function(lib, "MPI_Finalize");
        MethodHandle initThread = function(lib, "MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        MethodHandle commRank = function(lib, "MPI_Comm_rank", c, ADDRESS);
        MethodHandle commSize = function(lib, "MPI_Comm_size", c, ADDRESS);

        who = "rank " + Ranks.envRank() + " of " + Ranks.envSize();
        if (timeout > 0) {
            Thread.ofPlatform().daemon().name("tgpt-mpi-watchdog").start(this::watch);
        }
        MemorySegment out = arena.allocate(JAVA_INT, 3);
        call("MPI_Init", () -> (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, THREAD_MULTIPLE,
                out.asSlice(0, 4)));
        call("MPI_Init", () -> (int) commRank.invokeExact(h.world(), out.asSlice(4, 4)));
        call("MPI_Init", () -> (int) commSize.invokeExact(h.world(), out.asSlice(8, 4)));
        threadLevel = out.getAtIndex(JAVA_INT, 0);
        rank = out.getAtIndex(JAVA_INT, 1);
        size = out.getAtIndex(JAVA_INT, 2);
        who = "rank " + rank + " of " + size;
        scratch = arena.allocate(4L * bucket, 64);
        counts = arena.allocate(JAVA_INT, size);
        displs = arena.allocate(JAVA_INT, size);
        // When another rank dies, mpirun stops this one with SIGTERM: say why in one line, as a failure here would.
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            if (!closed && !ending) {
                System.err.println("\ntgpt: " + who + ": stopped by the launcher: another rank failed or was killed (the launcher "
                        + "says which); the last checkpoint saved is intact");
                System.err.flush();
            }
        }));
    }

    /**
     * Initialises MPI (once per process: {@link Ranks#fromEnvironment()} is the usual way in). Throws {@link UserError}
     * when libmpi cannot be loaded.
     */
    public static Mpi init() {
        return new Mpi();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean callableFromAnyThread() {
        return threadLevel >= THREAD_SERIALIZED;
    }

    @Override
    public synchronized void allReduceSum(FloatArray a, long from, long count) {
        MemorySegment s = floats(a, from, count);
        for (long b = 0; b < count; b += bucket) {
            int n = (int) Math.min(bucket, count - b);
            MemorySegment p = s.asSlice(4 * b);
            call("allReduceSum", () -> (int) allreduce.invokeExact(Handles.IN_PLACE, p, n, h.floatType(), h.sum(),
                    h.world()));
        }
    }

    @Override
    public synchronized void allReduceSum(double[] values) {
        int chunk = bucket / 2;
        for (int b = 0; b < values.length; b += chunk) {
            int n = Math.min(chunk, values.length - b);
            MemorySegment.copy(values, b, scratch, JAVA_DOUBLE, 0, n);
            call("allReduceSum", () -> (int) allreduce.invokeExact(Handles.IN_PLACE, scratch, n, h.doubleType(),
                    h.sum(), h.world()));
            MemorySegment.copy(scratch, JAVA_DOUBLE, 0, values, b, n);
        }
    }

    @Override
    public synchronized void broadcast(FloatArray a, long from, long count, int root) {
        Objects.checkIndex(root, size);
        MemorySegment s = floats(a, from, count);
        for (long b = 0; b < count; b += bucket) {
            int n = (int) Math.min(bucket, count - b);
            MemorySegment p = s.asSlice(4 * b);
            call("broadcast", () -> (int) bcast.invokeExact(p, n, h.floatType(), root, h.world()));
        }
    }

    @Override
    public synchronized void broadcast(byte[] bytes, int root) {
        Objects.checkIndex(root, size);
        int chunk = (int) scratch.byteSize();
        for (int b = 0; b < bytes.length; b += chunk) {
            int n = Math.min(chunk, bytes.length - b);
            MemorySegment.copy(bytes, b, scratch, JAVA_BYTE, 0, n);
            call("broadcast", () -> (int) bcast.invokeExact(scratch, n, h.byteType(), root, h.world()));
            MemorySegment.copy(scratch, JAVA_BYTE, 0, bytes, b, n);
        }
    }

    /**
     * With 2 ranks, an all-reduce of the range (the rest of a is allowed to hold anything, so the sums may): here Open
     * MPI 4.1.4's MPI_Reduce_scatter of GPT-2's 498 MB of gradients took ~1.5× its all-reduce over shared memory, and
     * ZeRO-1 trained GPT-2 124M at 162 tokens/s with it against 212 with the all-reduce (one A/B run). With more
     * ranks a reduce-scatter sends half an all-reduce's bytes, which a network pays for: MPI's own.
     */
    @Override
    public synchronized void reduceScatterSum(FloatArray a, long[] starts) {
        if (size == 2) {
            checkShards(starts);
            allReduceSum(a, starts[0], starts[size] - starts[0]);
            return;
        }
        shardBuckets(a, starts, send -> {
            call("reduceScatterSum", () -> (int) reduceScatter.invokeExact(send, scratch, counts, h.floatType(), h.sum(), h.world()));
            // the result is this rank's part of the bucket, at the start of the receive buffer
            MemorySegment.copy(scratch, 0, send, 4L * displs.getAtIndex(JAVA_INT, rank), 4L * counts.getAtIndex(JAVA_INT, rank));
        });
    }

    @Override
    public synchronized void allGather(FloatArray a, long[] starts) {
        shardBuckets(a, starts, p -> call("allGather", () -> (int) allgatherv.invokeExact(Handles.IN_PLACE, 0, h.floatType(), p, counts, displs,
                h.floatType(), h.world())));
    }

    /** Runs op on each bucket of {@code a[starts[0]..starts[size])}, with counts and displs the shards' parts of it. */
    private void shardBuckets(FloatArray a, long[] starts, java.util.function.Consumer<MemorySegment> op) {
        checkShards(starts);
        long lo = starts[0];
        MemorySegment s = floats(a, lo, starts[size] - lo);
        for (long b0 = lo; b0 < starts[size]; b0 += bucket) {
            long b1 = Math.min(starts[size], b0 + bucket);
            intersect(starts, b0, b1);
            op.accept(s.asSlice(4 * (b0 - lo), 4 * (b1 - b0)));
        }
    }

    /** MPI_Finalize, once; the instance takes no calls afterwards. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        call("close", () -> (int) finalizeMpi.invokeExact());
        closed = true;
        arena.close();
    }

    /**
     * Ends the whole run now (MPI_Abort: the launcher stops every rank), as a rank that failed must: the others would
     * wait for it in their next call. Halts this process in any case.
     */
    public void abort(int code) {
        ending = true;
        Thread.ofPlatform().daemon().start(() -> {
            try {
                abort.invoke(h.world(), code);
            } catch (Throwable _) {
                // halted below
            }
        });
        sleep(ABORT_GRACE_MS);
        Runtime.getRuntime().halt(code);
    }

    /** {@code a[from..from+count)}, bounds-checked; element 0 of a FloatArray's segment is at offset 0. */
    private static MemorySegment floats(FloatArray a, long from, long count) {
        return a.getSegment().asSlice(4 * from, 4 * count);
    }

    private void checkShards(long[] starts) {
        if (starts.length != size + 1) {
            throw new IllegalArgumentException(starts.length + " shard starts for " + size + " ranks");
        }
        for (int r = 0; r < size; r++) {
            if (starts[r] > starts[r + 1]) {
                throw new IllegalArgumentException("shard starts descend at rank " + r);
            }
        }
    }

    /** counts and displs: each shard's part of the bucket [b0, b1), relative to b0. */
    private void intersect(long[] starts, long b0, long b1) {
        for (int r = 0; r < size; r++) {
            long lo = Math.clamp(starts[r], b0, b1);
            long hi = Math.clamp(starts[r + 1], b0, b1);
            counts.setAtIndex(JAVA_INT, r, (int) (hi - lo));
            displs.setAtIndex(JAVA_INT, r, (int) (lo - b0));
        }
    }

    private void call(String op, Call c) {
        if (closed) {
            throw new IllegalStateException("MPI was finalized");
        }
        int rc;
        busy = new Busy(op, System.nanoTime());
        try {
            rc = c.invoke();
        } catch (Throwable t) {
            throw new IllegalStateException(op + ": " + t, t);
        } finally {
            busy = null;
        }
        if (rc != 0) {
            // the default error handler aborts first; this is for a library set to return errors
            throw new IllegalStateException(op + ": MPI error " + rc);
        }
    }

    private void watch() {
        long limit = (long) (timeout * 1e9);
        long tick = Math.clamp(limit / 4_000_000, 10, 1000);
        while (!closed) {
            Busy b = busy;
            if (b != null && System.nanoTime() - b.since() > limit) {
                endRun(b.op());
            }
            sleep(tick);
        }
    }

    private void endRun(String op) {
        ending = true;
        System.err.println("tgpt: " + who + ": no answer from the other ranks for " + seconds(timeout) + " s in " + op
                + " (a rank died or hangs); ending the run");
        System.err.flush();
        if (threadLevel >= THREAD_MULTIPLE) {
            // another thread may hold MPI in a blocked call, which MPI_THREAD_MULTIPLE allows; MPI_Abort may hang too
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    abort.invoke(h.world(), 2);
                } catch (Throwable _) {
                    // halted below
                }
            });
        }
        sleep(ABORT_GRACE_MS);
        Runtime.getRuntime().halt(2);
    }

    /** A time limit as written: "3", "0.5". */
    static String seconds(double s) {
        return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code tgpt.rankTimeout} or {@code TGPT_RANK_TIMEOUT}, seconds; 600 by default (TornadoVM compiles kernels). */
    static double configuredTimeout() {
        String s = System.getProperty("tgpt.rankTimeout", System.getenv("TGPT_RANK_TIMEOUT"));
        if (s == null) {
            return 600;
        }
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new UserError("TGPT_RANK_TIMEOUT (tgpt.rankTimeout) must be seconds, not '" + s + "'");
        }
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new UserError(LIBRARY + " has no " + name + ": is it Open MPI?"));
    }

    private static MethodHandle function(SymbolLookup lib, String name, MemoryLayout... args) {
        return Linker.nativeLinker().downcallHandle(symbol(lib, name), FunctionDescriptor.of(JAVA_INT, args));
    }
}
