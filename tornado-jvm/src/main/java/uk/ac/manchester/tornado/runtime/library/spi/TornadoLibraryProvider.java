package uk.ac.manchester.tornado.runtime.library.spi;

import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;

/**
 * A binding of an external native library, found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/uk.ac.manchester.tornado.runtime.library.spi.TornadoLibraryProvider}): it creates a
 * context per (device, execution plan) and runs the library tasks whose descriptor names its {@link #libraryName()}.
 */
public interface TornadoLibraryProvider {

    /** The id a descriptor's library name is matched against, e.g. {@code "nvidia/cublas"}. */
    String libraryName();

    /** Whether this provider runs on the device (e.g. only a CUDA backend device). */
    boolean canHandle(TornadoXPUDevice device);

    /** The native context for this device and execution plan (e.g. a cuBLAS handle bound to the plan's stream). */
    LibraryContext createContext(TornadoXPUDevice device, long executionPlanId);

    /**
     * Called before each launch of a library task, after its context exists, and in the plan's pre-compilation: the
     * place to allocate per-shape plans and workspaces. Called repeatedly, so it must be idempotent.
     */
    default void prepare(LibraryTaskDescriptor descriptor, LibraryContext context) {
    }

    /** Runs the library function with the invocation's resolved arguments. */
    void dispatch(String functionName, LibraryInvocation invocation);

    /** Releases what a context from {@link #createContext} holds. */
    void destroyContext(LibraryContext context);
}
