package dev.tgpt.engine.dist;

import java.util.Locale;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.TornadoVmBackend;
import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Sums arrays over the ranks where they live, on the GPUs, with NCCL: the gradient path of data parallelism on
 * TornadoVM's CUDA backend (docs/nccl.md), ZeRO-1's reduce-scatter of gradients and all-gather of weights included. A sum is a launch of a program, a TornadoVM library task
 * ({@link NcclProvider}) that enqueues NCCL's all-reduce on the stream of TornadoVM's execution plan, in order with the
 * kernels around it: no copy to the host, no host round trip inside the step. Scalars (losses, checksums) stay on the
 * host {@link Collective}, which also carries NCCL's unique id from rank 0 to the others, as llm.c does.
 *
 * <p>Contexts: NCCL works in the device's primary context (it calls cudaSetDevice), TornadoVM 5.2 in a context of its
 * own (cuCtxCreate). Where they differ, a sum is staged: TornadoVM's stream records an event that NCCL's stream waits
 * for; the range is copied into a buffer of the primary context, summed there and copied back; TornadoVM's stream
 * then waits for NCCL's. Two device-to-device copies of the range, no host in between. Where TornadoVM runs in the
 * primary context, NCCL sums in place on TornadoVM's own stream.
 *
 * <p>A rank that never arrives leaves NCCL's kernel spinning and the step's stream blocked: a watchdog ends the run
 * with one line after TGPT_RANK_TIMEOUT seconds, as {@link Mpi} does, or at once when NCCL reports an error of its own.
 */
public final class NcclCollective implements AutoCloseable {

    /** How data parallelism sums gradients: host (through MPI, any device), nccl, or auto (nccl where it can). */
    public enum Mode {
        auto, host, nccl
    }

    /**
     * The process's communicator, for {@link NcclProvider}, which TornadoVM makes through a ServiceLoader; shared by the
     * trainers open at once (PPO's), closed with the last.
     */
    private static NcclCollective current;

    private final Collective world;
    private final Nccl nccl;
    private final CuDriver cuda;
    private final int device;
    private final long primary;
    /** The communicator (0 until made: the watchdog may run first). */
    private volatile long comm;
    private final long stream;
    private final long summed;
    private final double timeout;
    private final String version;
    /** The staging buffer in the primary context, and its size in floats (grown on demand). */
    private long stage;
    private long stageFloats;
    /** The event TornadoVM's stream records before a staged sum, made in TornadoVM's context. */
    private long ready;
    private long readyContext;
    private volatile String busy;
    private volatile long busySince;
    private volatile boolean closed;
    private int users = 1;

    private NcclCollective(Collective world, Nccl nccl, CuDriver cuda, int device) {
        this.world = world;
        this.nccl = nccl;
        this.cuda = cuda;
        this.device = device;
        this.timeout = Mpi.configuredTimeout();
        int v = nccl.version();
        this.version = String.format(Locale.ROOT, "NCCL %d.%d.%d", v / 10000, v / 100 % 100, v % 100);
        long saved = cuda.currentContext();
        primary = cuda.retainPrimary(device);
        try {
            cuda.setCurrent(primary);
            byte[] id = world.rank() == 0 ? nccl.uniqueId() : new byte[Nccl.UNIQUE_ID_BYTES];
            world.broadcast(id, 0);
            Thread.ofPlatform().daemon().name("tgpt-nccl-watchdog").start(this::watch);
            busy("ncclCommInitRank");
            comm = nccl.commInitRank(world.size(), id, world.rank());
            settled();
            stream = cuda.stream();
            summed = cuda.event();
        } finally {
            cuda.setCurrent(saved);
        }
    }

    /**
     * The device sums for this run, or null for the host path: with mode host; with auto, where a sum would run on
     * the host anyway (one process, a device without TornadoVM's CUDA streams, NCCL or the CUDA driver missing on a rank).
     * Every rank must call it (it agrees with the others). Mode nccl where NCCL cannot run is a {@link UserError}.
     */
    public static synchronized NcclCollective open(Collective world, Backend backend, Mode mode) {
        if (mode == Mode.host || mode == Mode.auto && world.size() == 1) {
            return null;
        }
        String why = null;
        Nccl nccl = null;
        CuDriver cuda = null;
        if (!(backend instanceof TornadoVmBackend t) || !NcclProvider.handles(t.device())) {
            why = "device " + backend.info().id() + " (" + backend.info().backend() + ") has no CUDA stream for NCCL: only TornadoVM's CUDA "
                    + "backend has";
        } else {
            try {
                nccl = Nccl.load();
                cuda = CuDriver.load();
            } catch (Native.UnavailableException e) {
                why = e.getMessage() + " (NCCL: pip install nvidia-nccl-cu12, or the system's libnccl2; then -Dtgpt.ncclLibrary=PATH if it is "
                        + "not on the loader's path)";
            }
        }
        double[] unable = { why == null ? 0 : 1 };
        world.allReduceSum(unable);
        if (unable[0] > 0) {
            if (mode == Mode.nccl) {
                throw new UserError("--collective nccl: " + (why != null ? why : (int) unable[0] + " of the " + world.size()
                        + " ranks cannot use NCCL") + "; use --collective host");
            }
            return null;
        }
        if (current != null) {
            current.users++;
            return current;
        }
        try {
            current = new NcclCollective(world, nccl, cuda, ((TornadoVmBackend) backend).deviceIndex());
        } catch (IllegalStateException e) {
            // a CUDA or NCCL error while starting is the machine's setup, not a bug (the others end with this rank, as on any failure)
            throw new UserError("NCCL did not start on rank " + world.rank() + ": " + e.getMessage() + "; use --collective host", e);
        }
        return current;
    }

    static synchronized NcclCollective current() {
        NcclCollective c = current;
        if (c == null) {
            throw new IllegalStateException("a tgpt/nccl library task ran without an open NcclCollective");
        }
        return c;
    }

    /** "NCCL 2.30.7 on CUDA device 0", for a run's header. */
    public String describe() {
        return version + " on CUDA device " + device;
    }

    /**
     * The launch that sums the whole array over the ranks, in place on the device. On the JVM backend (which has no
     * CUDA stream) the same sum goes through the host collective.
     */
    public Launch allReduceSum(String name, FloatArray a) {
        return Launch.parallel(name, (g, id) -> g.libraryTask(id, NcclProvider::allReduceSum, a, (long) a.getSize()),
                jvm -> world.allReduceSum(a, 0, a.getSize()));
    }

    /**
     * ZeRO-1's reduce-scatter: afterwards this rank's shard of a ({@link Collective#shards}(0, size)) holds the sum of
     * that range over the ranks; the rest of a is undefined.
     */
    public Launch reduceScatterSum(String name, FloatArray a) {
        return Launch.parallel(name, (g, id) -> g.libraryTask(id, NcclProvider::reduceScatterSum, a, (long) a.getSize()),
                jvm -> world.reduceScatterSum(a, world.shards(0, a.getSize())));
    }

    /** ZeRO-1's all-gather: afterwards every rank holds every rank's shard of a. */
    public Launch allGather(String name, FloatArray a) {
        return Launch.parallel(name, (g, id) -> g.libraryTask(id, NcclProvider::allGather, a, (long) a.getSize()),
                jvm -> world.allGather(a, world.shards(0, a.getSize())));
    }

    /** What the provider's functions do to the {@code count} floats at a device pointer, on a stream. */
    enum Op {
        /** ncclAllReduce in place. */
        ALL_REDUCE,
        /**
         * A ncclReduce of each rank's shard to that rank, in one group. NCCL's own reduce-scatter and all-gather need
         * equal shards (llm.c turns ZeRO off otherwise); tgpt's differ by up to one element, as the host path and
         * checkpoints cut them.
         */
        REDUCE_SCATTER,
        /** A ncclBroadcast of each rank's shard from that rank, in one group. */
        ALL_GATHER
    }

    /**
     * The provider's call: runs op on {@code count} floats at device pointer {@code p} of TornadoVM's context, ordered
     * on its stream. Returns at once; the execution plan's sync at the end of the graph waits for it.
     */
    synchronized void run(Op op, long p, long count, long tornadoStream, long tornadoContext) {
        long saved = cuda.currentContext();
        busy(op == Op.ALL_REDUCE ? "ncclAllReduce" : op == Op.REDUCE_SCATTER ? "ncclReduce" : "ncclBroadcast");
        try {
            if (tornadoContext == primary) {
                cuda.setCurrent(primary);
                enqueue(op, p, count, tornadoStream);
                return;
            }
            cuda.setCurrent(tornadoContext);
            if (readyContext != tornadoContext) {
                if (cuda.currentDevice() != device) {
                    throw new IllegalStateException("TornadoVM's context is on CUDA device " + cuda.currentDevice() + ", NCCL's on " + device);
                }
                ready = cuda.event();
                readyContext = tornadoContext;
            }
            cuda.record(ready, tornadoStream);
            cuda.setCurrent(primary);
            if (stageFloats < count) {
                if (stage != 0) {
                    cuda.free(stage);
                }
                stage = cuda.alloc(4 * count);
                stageFloats = count;
            }
            cuda.waitFor(stream, ready);
            // only what the op reads goes in, only what it defines comes back: the shard of this rank where it is one
            long[] shards = world.shards(0, count);
            long mine = 4 * shards[world.rank()];
            long shard = 4 * (shards[world.rank() + 1] - shards[world.rank()]);
            if (op == Op.ALL_GATHER) {
                cuda.copy(stage + mine, primary, p + mine, tornadoContext, shard, stream);
            } else {
                cuda.copy(stage, primary, p, tornadoContext, 4 * count, stream);
            }
            enqueue(op, stage, count, stream);
            if (op == Op.REDUCE_SCATTER) {
                cuda.copy(p + mine, tornadoContext, stage + mine, primary, shard, stream);
            } else {
                cuda.copy(p, tornadoContext, stage, primary, 4 * count, stream);
            }
            cuda.record(summed, stream);
            cuda.setCurrent(tornadoContext);
            cuda.waitFor(tornadoStream, summed);
        } finally {
            cuda.setCurrent(saved);
        }
    }

    /** The NCCL calls of op on {@code count} floats at p, in the primary context, on the stream. */
    private void enqueue(Op op, long p, long count, long on) {
        if (op == Op.ALL_REDUCE) {
            nccl.allReduceSum(p, p, count, comm, on);
            return;
        }
        long[] shards = world.shards(0, count);
        nccl.groupStart();
        try {
            for (int r = 0; r < world.size(); r++) {
                long at = p + 4 * shards[r];
                long n = shards[r + 1] - shards[r];
                if (op == Op.REDUCE_SCATTER) {
                    nccl.reduceSum(at, at, n, r, comm, on);
                } else {
                    nccl.broadcast(at, at, n, r, comm, on);
                }
            }
        } finally {
            nccl.groupEnd();
        }
    }

    /** The sums enqueued so far have finished (their program has run): the watchdog stops counting. */
    public void settled() {
        busy = null;
    }

    private void busy(String op) {
        busySince = System.nanoTime();
        busy = op;
    }

    /** Ends the run when a call waits past the time limit, or NCCL reports an error of its own (a peer or link lost). */
    private void watch() {
        long limit = timeout > 0 ? (long) (timeout * 1e9) : Long.MAX_VALUE;
        while (!closed) {
            String op = busy;
            long c = comm;
            int error = op != null && c != 0 ? nccl.asyncError(c) : 0;
            if (error != 0) {
                end(c, "NCCL failed in " + op + ": " + nccl.errorString(error));
            } else if (op != null && System.nanoTime() - busySince > limit) {
                end(c, "no answer from the other ranks for " + Mpi.seconds(timeout) + " s in " + op + " (a rank died or hangs)");
            }
            Mpi.sleep(timeout > 0 ? Math.clamp(limit / 4_000_000, 10, 1000) : 1000);
        }
    }

    private void end(long c, String why) {
        System.err.println("tgpt: rank " + world.rank() + " of " + world.size() + ": " + why + "; ending the run");
        System.err.flush();
        if (c != 0) {
            Thread.ofPlatform().daemon().start(() -> nccl.commAbort(c));
        }
        Mpi.sleep(3000);
        Runtime.getRuntime().halt(2);
    }

    @Override
    public void close() {
        synchronized (NcclCollective.class) {
            if (--users > 0) {
                return;
            }
            current = null;
        }
        closed = true;
        long saved = cuda.currentContext();
        try {
            cuda.setCurrent(primary);
            nccl.commDestroy(comm);
            if (stage != 0) {
                cuda.free(stage);
            }
        } finally {
            cuda.setCurrent(saved);
            cuda.releasePrimary(device);
        }
    }
}
