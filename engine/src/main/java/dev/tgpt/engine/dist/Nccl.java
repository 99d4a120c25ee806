package dev.tgpt.engine.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * NVIDIA's NCCL (libnccl.so.2) through the FFM API: what a data-parallel run needs to sum gradients on the GPUs
 * (nccl.h of NCCL 2.30; the signatures have been stable since 2.0). Pointers, communicators and streams are raw
 * addresses (longs). System property {@code tgpt.ncclLibrary} names another library file (the tests' stand-in).
 */
final class Nccl {

    static final String LIBRARY = "libnccl.so.2";
    /** sizeof(ncclUniqueId): {@code typedef struct { char internal[128]; } ncclUniqueId}, passed by value. */
    static final int UNIQUE_ID_BYTES = 128;
    private static final MemoryLayout UNIQUE_ID = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE));
    /** ncclFloat32 and ncclSum in nccl.h's enums. */
    private static final int FLOAT32 = 7;
    private static final int SUM = 0;
    /** ncclInProgress: a non-blocking communicator's call still running (blocking ones, as made here, never return it). */
    private static final int IN_PROGRESS = 7;

    private final MethodHandle getVersion;
    private final MethodHandle getUniqueId;
    private final MethodHandle commInitRank;
    private final MethodHandle allReduce;
    private final MethodHandle reduce;
    private final MethodHandle broadcast;
    private final MethodHandle groupStart;
    private final MethodHandle groupEnd;
    private final MethodHandle commDestroy;
    private final MethodHandle commAbort;
    private final MethodHandle commGetAsyncError;
    private final MethodHandle getErrorString;
    private final Arena arena = Arena.ofAuto();

    private Nccl(SymbolLookup lib) {
        getVersion = Native.function(lib, LIBRARY, "ncclGetVersion", ADDRESS);
        getUniqueId = Native.function(lib, LIBRARY, "ncclGetUniqueId", ADDRESS);
        commInitRank = Native.function(lib, LIBRARY, "ncclCommInitRank", ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT);
        allReduce = Native.function(lib, LIBRARY, "ncclAllReduce", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        reduce = Native.function(lib, LIBRARY, "ncclReduce", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        broadcast = Native.function(lib, LIBRARY, "ncclBroadcast", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        groupStart = Native.function(lib, LIBRARY, "ncclGroupStart");
        groupEnd = Native.function(lib, LIBRARY, "ncclGroupEnd");
        commDestroy = Native.function(lib, LIBRARY, "ncclCommDestroy", JAVA_LONG);
        commAbort = Native.function(lib, LIBRARY, "ncclCommAbort", JAVA_LONG);
        commGetAsyncError = Native.function(lib, LIBRARY, "ncclCommGetAsyncError", JAVA_LONG, ADDRESS);
        getErrorString = Native.linker().downcallHandle(Native.symbol(lib, LIBRARY, "ncclGetErrorString"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** Loads NCCL; a message saying why not (no such library) instead. */
    static Nccl load() {
        return new Nccl(Native.library(System.getProperty("tgpt.ncclLibrary", LIBRARY)));
    }

    /** The version as NCCL codes it (2.30.7: 23007). */
    int version() {
        MemorySegment out = arena.allocate(JAVA_INT);
        check("ncclGetVersion", (int) Native.invoke(getVersion, out));
        return out.get(JAVA_INT, 0);
    }

    /** A new communicator's id (rank 0 makes it, the others get it from rank 0). */
    byte[] uniqueId() {
        MemorySegment id = arena.allocate(UNIQUE_ID);
        check("ncclGetUniqueId", (int) Native.invoke(getUniqueId, id));
        return id.toArray(JAVA_BYTE);
    }

    /** ncclCommInitRank on the current CUDA device; blocks until every rank has called it. Returns the communicator. */
    long commInitRank(int ranks, byte[] id, int rank) {
        MemorySegment out = arena.allocate(JAVA_LONG);
        MemorySegment idValue = arena.allocate(UNIQUE_ID).copyFrom(MemorySegment.ofArray(id));
        check("ncclCommInitRank", (int) Native.invoke(commInitRank, out, ranks, idValue, rank));
        return out.get(JAVA_LONG, 0);
    }

    /** Sums count floats over the ranks (in place when send == recv), enqueued on the stream. */
    void allReduceSum(long send, long recv, long count, long comm, long stream) {
        check("ncclAllReduce", (int) Native.invoke(allReduce, send, recv, count, FLOAT32, SUM, comm, stream));
    }

    /** Sums count floats over the ranks into rank root's recv (in place when send == recv), enqueued on the stream. */
    void reduceSum(long send, long recv, long count, int root, long comm, long stream) {
        check("ncclReduce", (int) Native.invoke(reduce, send, recv, count, FLOAT32, SUM, root, comm, stream));
    }

    /** Copies rank root's count floats to every rank's recv (in place when send == recv), enqueued on the stream. */
    void broadcast(long send, long recv, long count, int root, long comm, long stream) {
        check("ncclBroadcast", (int) Native.invoke(broadcast, send, recv, count, FLOAT32, root, comm, stream));
    }

    /** The calls up to {@link #groupEnd} are launched together (one rank's several roots must not wait on each other). */
    void groupStart() {
        check("ncclGroupStart", (int) Native.invoke(groupStart));
    }

    void groupEnd() {
        check("ncclGroupEnd", (int) Native.invoke(groupEnd));
    }

    void commDestroy(long comm) {
        check("ncclCommDestroy", (int) Native.invoke(commDestroy, comm));
    }

    /** Frees the communicator and stops its kernels, even with peers that never came (the watchdog's way out). */
    void commAbort(long comm) {
        check("ncclCommAbort", (int) Native.invoke(commAbort, comm));
    }

    /** An error NCCL met in the background (a peer gone, a network failure), or 0. */
    int asyncError(long comm) {
        MemorySegment out = arena.allocate(JAVA_INT);
        check("ncclCommGetAsyncError", (int) Native.invoke(commGetAsyncError, comm, out));
        int rc = out.get(JAVA_INT, 0);
        return rc == IN_PROGRESS ? 0 : rc;
    }

    String errorString(int rc) {
        MemorySegment s = (MemorySegment) Native.invoke(getErrorString, rc);
        return s.equals(MemorySegment.NULL) ? "error " + rc : s.reinterpret(256).getString(0);
    }

    private void check(String op, int rc) {
        if (rc != 0) {
            throw new IllegalStateException(op + ": " + errorString(rc) + " (ncclResult " + rc + ")");
        }
    }
}
