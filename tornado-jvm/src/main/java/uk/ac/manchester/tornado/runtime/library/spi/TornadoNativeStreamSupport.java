package uk.ac.manchester.tornado.runtime.library.spi;

/**
 * Implemented by devices that expose their native command stream to libraries (TornadoVM's CUDA backend: its CUstream,
 * for {@code cublasSetStream}), so that library work runs in order with TornadoVM's kernels and transfers.
 */
public interface TornadoNativeStreamSupport {

    /** The native stream handle (e.g. CUstream) the execution plan uses on this device. */
    long getNativeStream(long executionPlanId);

    /** The native context handle (e.g. CUcontext) the execution plan uses on this device. */
    long getNativeContext(long executionPlanId);

    /** Opens an NVTX range named {@code name} on this thread (a library task's span in Nsight Systems); no-op by default. */
    default void nvtxRangePush(String name) {
    }

    /** Closes the NVTX range opened last on this thread; no-op by default. */
    default void nvtxRangePop() {
    }
}
