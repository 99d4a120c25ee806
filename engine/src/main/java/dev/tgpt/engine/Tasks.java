package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask2;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task1;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task2;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task3;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task4;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task5;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task6;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task7;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task8;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task9;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task10;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task11;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task12;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task13;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task14;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task15;

/**
 * Where a {@link Launch} puts its kernel: the same {@code task(id, kernel, args...)} calls as TornadoVM's TaskGraph,
 * seen by the engine first. The TornadoVM backend needs each task's arguments before it builds any graph: to count
 * what the task costs in TornadoVM's graph limits, to split a program into graphs that fit, and to refuse a slab view
 * that reached a task in place of its slab (it would get a device buffer of its own, and the slab's data would never
 * change through it).
 */
public abstract class Tasks {

    /** One task as a launch adds it: its id, its arguments (scalars boxed), and the call that adds it to a graph. */
    public record Call(String id, Object[] args, Consumer<TaskGraph> graph) {
    }

    /** The tasks a launch adds under this id, with this context for its KernelContext tasks, without adding them. */
    public static List<Call> calls(Launch launch, String id, KernelContext context) {
        List<Call> calls = new ArrayList<>();
        launch.task().addTo(new Tasks() {
            @Override
            public KernelContext context() {
                return context;
            }

            @Override
            protected void add(String taskId, Object[] args, Consumer<TaskGraph> graph) {
                calls.add(new Call(taskId, args, graph));
            }
        }, id);
        return calls;
    }

    /** The KernelContext that every KernelContext task of one graph shares (one graph node, not three per task). */
    public abstract KernelContext context();

    /**
     * Records one task.
     *
     * @param args  its arguments in order, scalars boxed
     * @param graph adds it to a TornadoVM task graph
     */
    protected abstract void add(String id, Object[] args, Consumer<TaskGraph> graph);

    /** A library task (TornadoVM's hybrid API: a native library's call on the device's buffers, in order with the kernels). */
    public final <T1, T2> void libraryTask(String id, LibraryTask2<T1, T2> code, T1 a1, T2 a2) {
        add(id, new Object[] { a1, a2 }, g -> g.libraryTask(id, code, a1, a2));
    }

    public final <T1> void task(String id, Task1<T1> code, T1 a1) {
        add(id, new Object[] { a1 }, g -> g.task(id, code, a1));
    }

    public final <T1, T2> void task(String id, Task2<T1, T2> code, T1 a1, T2 a2) {
        add(id, new Object[] { a1, a2 }, g -> g.task(id, code, a1, a2));
    }

    public final <T1, T2, T3> void task(String id, Task3<T1, T2, T3> code, T1 a1, T2 a2, T3 a3) {
        add(id, new Object[] { a1, a2, a3 }, g -> g.task(id, code, a1, a2, a3));
    }

    public final <T1, T2, T3, T4> void task(String id, Task4<T1, T2, T3, T4> code, T1 a1, T2 a2, T3 a3, T4 a4) {
        add(id, new Object[] { a1, a2, a3, a4 }, g -> g.task(id, code, a1, a2, a3, a4));
    }

    public final <T1, T2, T3, T4, T5> void task(String id, Task5<T1, T2, T3, T4, T5> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5) {
        add(id, new Object[] { a1, a2, a3, a4, a5 }, g -> g.task(id, code, a1, a2, a3, a4, a5));
    }

    public final <T1, T2, T3, T4, T5, T6> void task(String id, Task6<T1, T2, T3, T4, T5, T6> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6));
    }

    public final <T1, T2, T3, T4, T5, T6, T7> void task(String id, Task7<T1, T2, T3, T4, T5, T6, T7> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8> void task(String id, Task8<T1, T2, T3, T4, T5, T6, T7, T8> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9> void task(String id, Task9<T1, T2, T3, T4, T5, T6, T7, T8, T9> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> void task(String id, Task10<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> void task(String id, Task11<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> void task(String id, Task12<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> void task(String id, Task13<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> void task(String id, Task14<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13, T14 a14) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14));
    }

    public final <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> void task(String id, Task15<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> code, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13, T14 a14, T15 a15) {
        add(id, new Object[] { a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 }, g -> g.task(id, code, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15));
    }
}
