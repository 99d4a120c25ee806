/**
 * How tornado-jvm runs TornadoVM's API on the plain JVM.
 *
 * <p>It is faithful where a kernel or the engine could be wrong on a real device and still pass on the JVM:
 * <ul>
 * <li>each task graph has its own emulated device memory, filled with NaN (int: -1) when allocated, so data that
 * was never transferred, or never persisted and consumed between graphs, is garbage, as on a device;</li>
 * <li>a KernelContext kernel runs each work-item of a work-group as its own thread, with real barriers and shared
 * local arrays; barrier divergence, missing or uneven worker grids and local memory beyond 48 KiB are errors;</li>
 * <li>scalar arguments are captured when the task is defined, as TornadoVM specialises them into the kernel;</li>
 * <li>TornadoVM 5.2.1's fixed sizes of a task graph ({@link dev.tgpt.tornadojvm.GraphLimits}): 8,192 bytes of
 * high-level code (a task past them throws {@code BufferOverflowException} from {@code TaskGraph.task}) and 1,024
 * nodes (a graph past them throws {@code TornadoInternalError: unimplemented: Tornado Graph resize not implemented
 * yet.} at its first execution), the node count being an upper bound only in that every array argument counts as
 * written;</li>
 * <li>consumeFromDevice takes the buffers of the graph executed last; naming another graph is an error here, where
 * TornadoVM 5.2.1 silently reads a stale buffer (TornadoVM #996).</li>
 * <li>a library task ({@code TaskGraph.libraryTask}) runs in order with the Java tasks, through the provider that
 * {@link dev.tgpt.tornadojvm.LibraryRegistry} finds with ServiceLoader, on the device buffers (a native library gets
 * the address of their first element); TornadoVM's errors for a library with no provider, or none for the device,
 * are the same. Emulated devices have no native stream, as TornadoVM's OpenCL and PTX devices, unless
 * {@code TORNADO_JVM_NATIVE_STREAMS=1} gives them fake ones ({@link dev.tgpt.tornadojvm.JvmRuntime}).</li>
 * </ul>
 * It is not fast: it exists so that the kernels and the engine's task graphs are tested without an SDK.
 */
package dev.tgpt.tornadojvm;
