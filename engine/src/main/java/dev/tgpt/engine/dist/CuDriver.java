package dev.tgpt.engine.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API (libcuda.so.1, cuda.h) through the FFM API: the few calls that bridge TornadoVM's CUDA context
 * and NCCL's (see {@link NcclCollective}). Contexts, streams, events and device pointers are raw addresses (longs).
 * System property {@code tgpt.cudaLibrary} names another library file (the tests' stand-in).
 */
final class CuDriver {

    static final String LIBRARY = "libcuda.so.1";
    /** CU_STREAM_NON_BLOCKING, CU_EVENT_DISABLE_TIMING. */
    static final int STREAM_NON_BLOCKING = 1;
    static final int EVENT_DISABLE_TIMING = 2;

    private final MethodHandle init;
    private final MethodHandle ctxGetCurrent;
    private final MethodHandle ctxSetCurrent;
    private final MethodHandle ctxGetDevice;
    private final MethodHandle primaryCtxRetain;
    private final MethodHandle primaryCtxRelease;
    private final MethodHandle memAlloc;
    private final MethodHandle memFree;
    private final MethodHandle streamCreate;
    private final MethodHandle eventCreate;
    private final MethodHandle eventRecord;
    private final MethodHandle streamWaitEvent;
    private final MethodHandle memcpyPeerAsync;
    private final MethodHandle getErrorString;
    private final Arena arena = Arena.ofAuto();

    private CuDriver(SymbolLookup lib) {
        init = Native.function(lib, LIBRARY, "cuInit", JAVA_INT);
        ctxGetCurrent = Native.function(lib, LIBRARY, "cuCtxGetCurrent", ADDRESS);
        ctxSetCurrent = Native.function(lib, LIBRARY, "cuCtxSetCurrent", JAVA_LONG);
        ctxGetDevice = Native.function(lib, LIBRARY, "cuCtxGetDevice", ADDRESS);
        primaryCtxRetain = Native.function(lib, LIBRARY, "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        primaryCtxRelease = Native.function(lib, LIBRARY, "cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        memAlloc = Native.function(lib, LIBRARY, "cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        memFree = Native.function(lib, LIBRARY, "cuMemFree_v2", JAVA_LONG);
        streamCreate = Native.function(lib, LIBRARY, "cuStreamCreate", ADDRESS, JAVA_INT);
        eventCreate = Native.function(lib, LIBRARY, "cuEventCreate", ADDRESS, JAVA_INT);
        eventRecord = Native.function(lib, LIBRARY, "cuEventRecord", JAVA_LONG, JAVA_LONG);
        streamWaitEvent = Native.function(lib, LIBRARY, "cuStreamWaitEvent", JAVA_LONG, JAVA_LONG, JAVA_INT);
        memcpyPeerAsync = Native.function(lib, LIBRARY, "cuMemcpyPeerAsync", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        getErrorString = Native.function(lib, LIBRARY, "cuGetErrorString", JAVA_INT, ADDRESS);
        check("cuInit", (int) Native.invoke(init, 0));
    }

    static CuDriver load() {
        return new CuDriver(Native.library(System.getProperty("tgpt.cudaLibrary", LIBRARY)));
    }

    long currentContext() {
        return out("cuCtxGetCurrent", ctxGetCurrent);
    }

    void setCurrent(long context) {
        check("cuCtxSetCurrent", (int) Native.invoke(ctxSetCurrent, context));
    }

    /** The device (ordinal) of the current context. */
    int currentDevice() {
        MemorySegment out = arena.allocate(JAVA_INT);
        check("cuCtxGetDevice", (int) Native.invoke(ctxGetDevice, out));
        return out.get(JAVA_INT, 0);
    }

    /** The device's primary context (the CUDA runtime's, which NCCL uses), retained until {@link #releasePrimary}. */
    long retainPrimary(int device) {
        return out("cuDevicePrimaryCtxRetain", primaryCtxRetain, device);
    }

    void releasePrimary(int device) {
        check("cuDevicePrimaryCtxRelease", (int) Native.invoke(primaryCtxRelease, device));
    }

    /** Device memory in the current context. */
    long alloc(long bytes) {
        return out("cuMemAlloc", memAlloc, bytes);
    }

    void free(long pointer) {
        check("cuMemFree", (int) Native.invoke(memFree, pointer));
    }

    /** A stream of the current context that does not wait for the legacy default stream. */
    long stream() {
        return out("cuStreamCreate", streamCreate, STREAM_NON_BLOCKING);
    }

    /** An event of the current context, without timing (the cheapest kind for ordering streams). */
    long event() {
        return out("cuEventCreate", eventCreate, EVENT_DISABLE_TIMING);
    }

    void record(long event, long stream) {
        check("cuEventRecord", (int) Native.invoke(eventRecord, event, stream));
    }

    /** Work enqueued on the stream after this waits for the event (which may belong to another context). */
    void waitFor(long stream, long event) {
        check("cuStreamWaitEvent", (int) Native.invoke(streamWaitEvent, stream, event, 0));
    }

    /** Copies bytes between memory of two contexts, enqueued on the stream. */
    void copy(long dst, long dstContext, long src, long srcContext, long bytes, long stream) {
        check("cuMemcpyPeerAsync", (int) Native.invoke(memcpyPeerAsync, dst, dstContext, src, srcContext, bytes, stream));
    }

    /** Calls f(&result, args...) and returns the 8-byte result (a handle, a pointer). */
    private long out(String op, MethodHandle f, Object... args) {
        MemorySegment out = arena.allocate(JAVA_LONG);
        Object[] all = new Object[args.length + 1];
        all[0] = out;
        System.arraycopy(args, 0, all, 1, args.length);
        check(op, (int) Native.invoke(f, all));
        return out.get(JAVA_LONG, 0);
    }

    private void check(String op, int rc) {
        if (rc != 0) {
            MemorySegment s = arena.allocate(ADDRESS);
            Native.invoke(getErrorString, rc, s);
            MemorySegment text = s.get(ADDRESS, 0);
            throw new IllegalStateException(op + ": " + (text.equals(MemorySegment.NULL) ? "CUDA error" : text.reinterpret(256).getString(0))
                    + " (CUresult " + rc + ")");
        }
    }
}
