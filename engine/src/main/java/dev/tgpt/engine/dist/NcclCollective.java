package dev.tgpt.engine.dist;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.TornadoVmBackend;
import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Sums arrays over the ranks where they live, on the GPUs, with NCCL: the gradient path of data parallelism on
 * TornadoVM's CUDA backend (docs/nccl.md), ZeRO-1's reduce-scatter of gradients and all-gather of weights included. A
 * sum is a launch of a program, a TornadoVM library task ({@link NcclProvider}) that enqueues NCCL's calls behind what
 * the execution plan's stream holds, in order with the kernels around it: no copy to the host, no host round trip
 * inside the step. Scalars (losses, checksums) stay on the host {@link Collective}, which also carries NCCL's unique id
 * from rank 0 to the others, as llm.c does.
 *
 * <p>Streams and contexts: every sum runs on NCCL's own stream, after an event TornadoVM's stream records; TornadoVM's
 * stream then waits for NCCL's, except for the sums during the backward, which it leaves running beside the layers
 * below. NCCL works in the device's primary context (it calls cudaSetDevice), TornadoVM 5.2 in a context of its own
 * (cuCtxCreate); where they differ, a sum is staged: copied into a buffer of the primary context, summed there and
 * copied back, two device-to-device copies of the range, no host in between. In one context it is summed in place.
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
    /** The library tasks' work, by the index each task carries. */
    private final List<Call> calls = new ArrayList<>();
    private boolean armed;

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
        return launch(name, a, new Call(Op.ALL_REDUCE, whole(a), a.getSize(), false));
    }

    /** ZeRO-1's all-gather: afterwards every rank holds every rank's shard of a. */
    public Launch allGather(String name, FloatArray a) {
        return launch(name, a, new Call(Op.ALL_GATHER, whole(a), a.getSize(), false));
    }

    /**
     * Sums the [from, to) ranges of a over the ranks (ZeRO-1, {@code scatter}: each shard's part of them to its rank).
     * {@code duringBackward}: a layer's gradients, handed over in the backward of a step's last micro-batch
     * ({@link #arm}) and summed on NCCL's stream while TornadoVM's computes the layers below; the next sum that is not
     * during the backward (the update's) waits for them. Otherwise the kernels after it wait for the sum.
     */
    public Launch sumRanges(String name, FloatArray a, long[] ranges, boolean scatter, boolean duringBackward) {
        return launch(name, a, new Call(scatter ? Op.REDUCE_SCATTER : Op.ALL_REDUCE, ranges.clone(), a.getSize(), duringBackward));
    }

    /** Whether the next backward is a step's last micro-batch, whose sums during the backward then run. */
    public synchronized void arm(boolean lastMicroBatch) {
        armed = lastMicroBatch;
    }

    private static long[] whole(FloatArray a) {
        return new long[] { 0, a.getSize() };
    }

    /** The library task of a call; its twin on a backend without CUDA streams goes through the host collective. */
    private synchronized Launch launch(String name, FloatArray a, Call call) {
        long index = calls.size();
        calls.add(call);
        long[] shards = world.shards(0, a.getSize());
        return Launch.parallel(name, (g, id) -> g.libraryTask(id, NcclProvider.factory(call.op), a, index), jvm -> {
            if (call.op == Op.ALL_GATHER) {
                world.allGather(a, shards);
            } else {
                world.sumRanges(a, call.ranges, call.op == Op.REDUCE_SCATTER ? shards : null);
            }
        });
    }

    /** What the provider's functions do to floats at a device pointer. */
    enum Op {
        /** ncclAllReduce in place. */
        ALL_REDUCE("ncclAllReduce"),
        /**
         * A ncclReduce of each rank's shard to that rank, in one group. NCCL's own reduce-scatter and all-gather need
         * equal shards (llm.c turns ZeRO off otherwise); tgpt's differ by up to one element, as the host path and
         * checkpoints cut them.
         */
        REDUCE_SCATTER("ncclReduce"),
        /** A ncclBroadcast of each rank's shard from that rank, in one group. */
        ALL_GATHER("ncclBroadcast");

        final String function;

        Op(String function) {
            this.function = function;
        }
    }

    /** One library task's work: op on the [from, to) ranges of an array of {@code total} floats. */
    private record Call(Op op, long[] ranges, long total, boolean duringBackward) {
    }

    /**
     * The provider's call: runs call {@code index} on the array at device pointer {@code p} of TornadoVM's context, on
     * NCCL's stream after what TornadoVM's stream has enqueued so far. Returns at once; unless the call is during the
     * backward, TornadoVM's stream waits for it (and for every sum before it), and the execution plan's sync at the end
     * of the graph waits for that.
     */
    synchronized void run(long index, long p, long tornadoStream, long tornadoContext) {
        Call c = calls.get(Math.toIntExact(index));
        if (c.duringBackward && !armed) {
            return;
        }
        long saved = cuda.currentContext();
        busy(c.op.function);
        try {
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
            cuda.waitFor(stream, ready);
            boolean staged = tornadoContext != primary;
            if (staged && stageFloats < c.total) {
                if (stage != 0) {
                    cuda.free(stage);
                }
                stage = cuda.alloc(4 * c.total);
                stageFloats = c.total;
            }
            long buffer = staged ? stage : p;
            long[] shards = world.shards(0, c.total);
            for (int i = 0; i < c.ranges.length; i += 2) {
                long from = c.ranges[i];
                long to = c.ranges[i + 1];
                // staged, only what the op reads goes in, only what it defines comes back: where it is one, this rank's part
                long mineFrom = Math.clamp(shards[world.rank()], from, to);
                long mineTo = Math.clamp(shards[world.rank() + 1], from, to);
                if (staged) {
                    stage(c.op == Op.ALL_GATHER ? mineFrom : from, c.op == Op.ALL_GATHER ? mineTo : to, stage, primary, p, tornadoContext);
                }
                enqueue(c.op, buffer, from, to, shards);
                if (staged) {
                    stage(c.op == Op.REDUCE_SCATTER ? mineFrom : from, c.op == Op.REDUCE_SCATTER ? mineTo : to, p, tornadoContext, stage, primary);
                }
            }
            cuda.record(summed, stream);
            if (!c.duringBackward) {
                cuda.setCurrent(tornadoContext);
                cuda.waitFor(tornadoStream, summed);
            }
        } finally {
            cuda.setCurrent(saved);
        }
    }

    /** Copies elements [from, to) between the stage and TornadoVM's buffer on NCCL's stream (nothing when empty). */
    private void stage(long from, long to, long dst, long dstContext, long src, long srcContext) {
        if (to > from) {
            cuda.copy(dst + 4 * from, dstContext, src + 4 * from, srcContext, 4 * (to - from), stream);
        }
    }

    /** The NCCL calls of op on elements [from, to) of the buffer at p, in the primary context, on NCCL's stream. */
    private void enqueue(Op op, long p, long from, long to, long[] shards) {
        if (op == Op.ALL_REDUCE) {
            nccl.allReduceSum(p + 4 * from, p + 4 * from, to - from, comm, stream);
            return;
        }
        nccl.groupStart();
        try {
            for (int r = 0; r < world.size(); r++) {
                long at = Math.clamp(shards[r], from, to);
                long n = Math.clamp(shards[r + 1], from, to) - at;
                if (n == 0) {
                    continue;
                }
                if (op == Op.REDUCE_SCATTER) {
                    nccl.reduceSum(p + 4 * at, p + 4 * at, n, r, comm, stream);
                } else {
                    nccl.broadcast(p + 4 * at, p + 4 * at, n, r, comm, stream);
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
