package dev.tgpt.engine;

import java.util.function.Consumer;
import java.util.function.Supplier;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * One kernel launch, runnable on either backend: as a task of a TornadoVM task graph (with its worker grid when
 * it is a KernelContext kernel), or on the JVM backend, which calls the same kernel code row by row (or its
 * Vector API twin) on its threads. Or host code between two launches ({@link #host}).
 *
 * @param name kernel name, for task ids and profiles
 * @param task adds the kernel as a task to a TornadoVM task graph (through {@link Tasks}); null for host code
 * @param grid global and local sizes of a KernelContext kernel; null for a @Parallel one
 * @param jvm  runs the same computation on the JVM backend
 * @param host host code and what it reads; null for a kernel
 */
public record Launch(String name, Task task, WorkerGrid grid, Consumer<JvmBackend> jvm, Host host) {

    /**
     * Host code, and the [from, to) pairs of an array (its slab's offsets, for a view) that it reads, to be copied from a
     * device first (asked for each time the code runs: it may read nothing on some runs).
     */
    public record Host(Runnable action, FloatArray array, Supplier<long[]> reads) {
    }

    /** Adds a kernel to a task graph under the given task id. */
    @FunctionalInterface
    public interface Task {
        void addTo(Tasks graph, String id);
    }

    /** Adds a KernelContext kernel, given the context it is launched with. */
    @FunctionalInterface
    public interface ContextTask {
        void addTo(Tasks graph, String id, KernelContext context);
    }

    /** A @Parallel kernel: TornadoVM picks its grid. */
    public static Launch parallel(String name, Task task, Consumer<JvmBackend> jvm) {
        return new Launch(name, task, null, jvm, null);
    }

    /** A KernelContext kernel of {@code groups} work-groups of {@code groupSize} work-items in one dimension. */
    public static Launch groups(String name, int groups, int groupSize, ContextTask task, Consumer<JvmBackend> jvm) {
        WorkerGrid1D grid = new WorkerGrid1D(groups * groupSize);
        grid.setLocalWork(groupSize, 1, 1);
        return new Launch(name, (g, id) -> task.addTo(g, id, g.context()), grid, jvm, null);
    }

    /** A KernelContext kernel over a 2D grid of {@code x × y} work-items in tiles of {@code tx × ty}; sizes round up to tiles. */
    public static Launch tiles(String name, int x, int y, int tx, int ty, ContextTask task, Consumer<JvmBackend> jvm) {
        WorkerGrid2D grid = new WorkerGrid2D(roundUp(x, tx), roundUp(y, ty));
        grid.setLocalWork(tx, ty, 1);
        return new Launch(name, (g, id) -> task.addTo(g, id, g.context()), grid, jvm, null);
    }

    /**
     * Host code between two launches (a trainer hands a layer's finished gradients to MPI there). The JVM backend runs
     * it in its place; a TornadoVM session ends a task graph there, copies the declared ranges of {@code array} from
     * the device (its slab's offsets, for a view), and runs it before the next graph: the device waits for the copies,
     * not for the action, which may go on in a thread of its own.
     */
    public static Launch host(String name, Runnable action, FloatArray array, Supplier<long[]> reads) {
        return new Launch(name, null, null, jvm -> action.run(), new Host(action, array, reads));
    }

    /** Host code that reads nothing a device holds. */
    public static Launch host(String name, Runnable action) {
        return host(name, action, null, () -> new long[0]);
    }

    /** Whether this is host code rather than a kernel. */
    public boolean isHost() {
        return host != null;
    }

    public static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
