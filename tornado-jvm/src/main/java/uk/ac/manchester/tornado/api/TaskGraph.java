package uk.ac.manchester.tornado.api;

import java.util.List;

import dev.tgpt.tornadojvm.GraphLimits;
import dev.tgpt.tornadojvm.GraphSpec;
import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask1;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask2;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask3;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask4;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask5;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask6;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask7;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask8;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task;
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
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * A graph of tasks (kernel calls) and the data they move between host and device. Arguments are captured when a
 * task is defined: a scalar's value then is the value the kernel sees on every execution.
 *
 * <p>Library tasks ({@code libraryTask}) call native library functions between the Java tasks, on the same device
 * buffers.
 *
 * <p>As in TornadoVM 5.2.1, a graph's task definitions share 8,192 bytes of high-level code (15 + 5 per argument
 * each): the task that would pass them throws {@link java.nio.BufferOverflowException}. A graph of more than 1,024
 * nodes fails at its first execution; see {@link GraphLimits}.
 */
@SuppressWarnings("unchecked")
public class TaskGraph {

    private final GraphSpec spec;

    public TaskGraph(String name) {
        spec = new GraphSpec(name);
    }

    public String getTaskGraphName() {
        return spec.name;
    }

    public TaskGraph task(String id, Task code) {
        return add(id, a -> code.apply());
    }

    public <T1> TaskGraph task(String id, Task1<T1> code, T1 arg1) {
        return add(id, a -> code.apply((T1) a[0]), arg1);
    }

    public <T1, T2> TaskGraph task(String id, Task2<T1, T2> code, T1 arg1, T2 arg2) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1]), arg1, arg2);
    }

    public <T1, T2, T3> TaskGraph task(String id, Task3<T1, T2, T3> code, T1 arg1, T2 arg2, T3 arg3) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2]), arg1, arg2, arg3);
    }

    public <T1, T2, T3, T4> TaskGraph task(String id, Task4<T1, T2, T3, T4> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3]), arg1, arg2, arg3, arg4);
    }

    public <T1, T2, T3, T4, T5> TaskGraph task(String id, Task5<T1, T2, T3, T4, T5> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4]), arg1, arg2, arg3, arg4, arg5);
    }

    public <T1, T2, T3, T4, T5, T6> TaskGraph task(String id, Task6<T1, T2, T3, T4, T5, T6> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5]), arg1, arg2, arg3, arg4, arg5, arg6);
    }

    public <T1, T2, T3, T4, T5, T6, T7> TaskGraph task(String id, Task7<T1, T2, T3, T4, T5, T6, T7> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6]), arg1, arg2, arg3, arg4, arg5, arg6, arg7);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8> TaskGraph task(String id, Task8<T1, T2, T3, T4, T5, T6, T7, T8> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9> TaskGraph task(String id, Task9<T1, T2, T3, T4, T5, T6, T7, T8, T9> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> TaskGraph task(String id, Task10<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> TaskGraph task(String id, Task11<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> TaskGraph task(String id, Task12<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> TaskGraph task(String id, Task13<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> TaskGraph task(String id, Task14<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13, T14 arg14) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12], (T14) a[13]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13, arg14);
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> TaskGraph task(String id, Task15<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13, T14 arg14, T15 arg15) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12], (T14) a[13], (T15) a[14]), arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13, arg14, arg15);
    }

    /**
     * Adds a library task: a call to a function of an external native library (e.g. cuBLAS), which {@code code}, a
     * binding's factory method, describes from these arguments. As in TornadoVM the factory runs now; the call runs in
     * order with the other tasks, on the arrays' device buffers, through the library's provider (see
     * {@link dev.tgpt.tornadojvm.LibraryRegistry}).
     */
    public <T1> TaskGraph libraryTask(String id, LibraryTask1<T1> code, T1 arg1) {
        return addLibraryTask(id, code.apply(arg1));
    }

    public <T1, T2> TaskGraph libraryTask(String id, LibraryTask2<T1, T2> code, T1 arg1, T2 arg2) {
        return addLibraryTask(id, code.apply(arg1, arg2));
    }

    public <T1, T2, T3> TaskGraph libraryTask(String id, LibraryTask3<T1, T2, T3> code, T1 arg1, T2 arg2, T3 arg3) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3));
    }

    public <T1, T2, T3, T4> TaskGraph libraryTask(String id, LibraryTask4<T1, T2, T3, T4> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3, arg4));
    }

    public <T1, T2, T3, T4, T5> TaskGraph libraryTask(String id, LibraryTask5<T1, T2, T3, T4, T5> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3, arg4, arg5));
    }

    public <T1, T2, T3, T4, T5, T6> TaskGraph libraryTask(String id, LibraryTask6<T1, T2, T3, T4, T5, T6> code,
            T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3, arg4, arg5, arg6));
    }

    public <T1, T2, T3, T4, T5, T6, T7> TaskGraph libraryTask(String id, LibraryTask7<T1, T2, T3, T4, T5, T6, T7> code,
            T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3, arg4, arg5, arg6, arg7));
    }

    public <T1, T2, T3, T4, T5, T6, T7, T8> TaskGraph libraryTask(String id, LibraryTask8<T1, T2, T3, T4, T5, T6, T7, T8> code,
            T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8) {
        return addLibraryTask(id, code.apply(arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8));
    }

    public TaskGraph transferToDevice(final int mode, Object... objects) {
        switch (mode) {
            case DataTransferMode.FIRST_EXECUTION -> spec.toDeviceFirst.addAll(List.of(objects));
            case DataTransferMode.EVERY_EXECUTION -> spec.toDeviceEvery.addAll(List.of(objects));
            default -> throw new TornadoRuntimeException("transferToDevice: mode " + mode + " is not FIRST_EXECUTION or EVERY_EXECUTION");
        }
        return this;
    }

    public TaskGraph transferToHost(final int mode, Object... objects) {
        switch (mode) {
            case DataTransferMode.EVERY_EXECUTION -> spec.toHostEvery.addAll(List.of(objects));
            case DataTransferMode.UNDER_DEMAND -> spec.toHostOnDemand.addAll(List.of(objects));
            default -> throw new TornadoRuntimeException("transferToHost: mode " + mode + " is not EVERY_EXECUTION or UNDER_DEMAND");
        }
        return this;
    }

    /** Keeps these objects' device buffers for a later graph of the same plan that consumes them. */
    public TaskGraph persistOnDevice(Object... objects) {
        spec.persisted.addAll(List.of(objects));
        return this;
    }

    /** Uses the device buffers that another graph of the same plan persisted. */
    public TaskGraph consumeFromDevice(Object... objects) {
        for (Object o : objects) {
            spec.consumed.put(o, null);
        }
        return this;
    }

    /**
     * As {@link #consumeFromDevice(Object...)}, naming the graph the buffers come from. TornadoVM 5.2.1 ignores the
     * name and takes them from the graph executed last, silently reading a stale buffer when that is another graph
     * (TornadoVM #996); tornado-jvm fails the execution instead. Naming this graph itself is the unnamed call, as in
     * TornadoVM.
     */
    public TaskGraph consumeFromDevice(String uniqueTaskGraphName, Object... objects) {
        for (Object o : objects) {
            // TornadoVM's unnamed consumeFromDevice is this call with the graph's own name
            spec.consumed.put(o, spec.name.equals(uniqueTaskGraphName) ? null : uniqueTaskGraphName);
        }
        return this;
    }

    public ImmutableTaskGraph snapshot() {
        return new ImmutableTaskGraph(spec.copy());
    }

    private TaskGraph add(String id, GraphSpec.Kernel kernel, Object... args) {
        return add(new GraphSpec.TaskSpec(id, kernel, args, null));
    }

    /** A library task's arguments are its descriptor's parameters, each with the access the descriptor declares. */
    private TaskGraph addLibraryTask(String id, LibraryTaskDescriptor descriptor) {
        Object[] parameters = descriptor.getParameters();
        Access[] access = descriptor.getAccess();
        if (parameters == null || access == null || access.length != parameters.length) {
            throw new TornadoRuntimeException("library task " + id + ": its descriptor needs one access per parameter, has "
                    + (parameters == null ? "no" : parameters.length) + " parameters and " + (access == null ? "no" : access.length) + " accesses");
        }
        for (int i = 0; i < parameters.length; i++) {
            if (!(parameters[i] instanceof TornadoNativeArray) && !GraphLimits.isBoxedPrimitive(parameters[i])) {
                // a library gets a device pointer or a value; tornado-jvm has device buffers for its off-heap arrays only
                throw new TornadoRuntimeException("library task " + id + ": parameter " + i + " is "
                        + (parameters[i] == null ? "null" : "a " + parameters[i].getClass().getName())
                        + "; tornado-jvm passes off-heap arrays and boxed primitives to libraries");
            }
        }
        return add(new GraphSpec.TaskSpec(id, null, parameters.clone(), descriptor));
    }

    private TaskGraph add(GraphSpec.TaskSpec task) {
        for (GraphSpec.TaskSpec t : spec.tasks) {
            if (t.id().equals(task.id())) {
                throw new TornadoRuntimeException("task graph " + spec.name + " has two tasks named " + task.id());
            }
        }
        // As TornadoTaskGraph.addInner: the task's high-level code goes into a fixed 8 KiB buffer, and the put that
        // passes its end throws BufferOverflowException out of task(...).
        GraphLimits.writeTask(spec, task.args().length);
        spec.tasks.add(task);
        return this;
    }
}
