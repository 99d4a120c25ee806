package dev.tgpt.engine;

import java.util.function.Consumer;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

/**
 * One kernel launch, runnable on either backend: as a task of a TornadoVM task graph (with its worker grid when
 * it is a KernelContext kernel), or on the JVM backend, which calls the same kernel code row by row (or its
 * Vector API twin) on its threads.
 *
 * @param name kernel name, for task ids and profiles
 * @param task adds the kernel as a task to a TornadoVM task graph (through {@link Tasks})
 * @param grid global and local sizes of a KernelContext kernel; null for a @Parallel one
 * @param jvm  runs the same computation on the JVM backend
 */
public record Launch(String name, Task task, WorkerGrid grid, Consumer<JvmBackend> jvm) {

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
        return new Launch(name, task, null, jvm);
    }

    /** A KernelContext kernel of {@code groups} work-groups of {@code groupSize} work-items in one dimension. */
    public static Launch groups(String name, int groups, int groupSize, ContextTask task, Consumer<JvmBackend> jvm) {
        WorkerGrid1D grid = new WorkerGrid1D(groups * groupSize);
        grid.setLocalWork(groupSize, 1, 1);
        return new Launch(name, (g, id) -> task.addTo(g, id, g.context()), grid, jvm);
    }

    /** A KernelContext kernel over a 2D grid of {@code x × y} work-items in tiles of {@code tx × ty}; sizes round up to tiles. */
    public static Launch tiles(String name, int x, int y, int tx, int ty, ContextTask task, Consumer<JvmBackend> jvm) {
        WorkerGrid2D grid = new WorkerGrid2D(roundUp(x, tx), roundUp(y, ty));
        grid.setLocalWork(tx, ty, 1);
        return new Launch(name, (g, id) -> task.addTo(g, id, g.context()), grid, jvm);
    }

    /**
     * Host code between two launches, for the JVM backend only, which runs a program's launches one by one from the
     * host (a trainer hands a layer's finished gradients to MPI there). A TornadoVM task graph has no such point: a
     * program holding one is refused when it is compiled for a device.
     */
    public static Launch host(String name, Runnable action) {
        return new Launch(name, (g, id) -> {
            throw new IllegalStateException("host action " + name + " in a program for a TornadoVM device: only the JVM backend runs them");
        }, null, jvm -> action.run());
    }

    public static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
