/**
 * How tornado-jvm runs TornadoVM's API on the plain JVM.
 *
 * <p>It is faithful where a kernel or the engine could be wrong on a real device and still pass on the JVM:
 * <ul>
 * <li>each task graph has its own emulated device memory, filled with NaN (int: -1) when allocated, so data that
 * was never transferred, or never persisted and consumed between graphs, is garbage, as on a device;</li>
 * <li>a KernelContext kernel runs each work-item of a work-group as its own thread, with real barriers and shared
 * local arrays; barrier divergence, missing or uneven worker grids and local memory beyond 48 KiB are errors;</li>
 * <li>scalar arguments are captured when the task is defined, as TornadoVM specialises them into the kernel.</li>
 * </ul>
 * It is not fast: it exists so that the kernels and the engine's task graphs are tested without an SDK.
 */
package dev.tgpt.tornadojvm;
