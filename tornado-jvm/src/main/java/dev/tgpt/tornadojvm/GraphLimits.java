package dev.tgpt.tornadojvm;

import java.nio.BufferOverflowException;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.exceptions.TornadoInternalError;

/**
 * Two fixed sizes of a TornadoVM 5.2.1 task graph, counted as TornadoVM counts them, so that a graph too big for a
 * real device fails on tornado-jvm as well, and in the same way.
 *
 * <h2>High-level code: 8,192 bytes per task graph</h2>
 * {@code TornadoTaskGraph.addInner} writes each task, as it is defined, into a fixed {@code byte[8192]}: CONTEXT
 * (1 byte) with the global task id and the task index (4 + 4), ARG_LIST (1) with the argument count (4), per
 * argument LOAD_PRIM or LOAD_REF (1) with a variable index (4), and LAUNCH (1): {@link #taskBytes(int)} = 15 + 5
 * &middot; arguments. The put that passes the end throws {@link BufferOverflowException} out of
 * {@code TaskGraph.task(...)}; the puts before it stay written, so no later task of that graph fits either.
 *
 * <h2>Nodes: 1,024 per task graph</h2>
 * At a graph's first execution (or {@code withPreCompilation()}) {@code TornadoGraphBuilder.buildGraph} fills a
 * {@code TornadoGraph} whose node array has 1,024 slots and whose {@code resize()} throws
 * {@code TornadoInternalError: unimplemented: Tornado Graph resize not implemented yet.} {@link #count(GraphSpec)}
 * counts the nodes as buildGraph creates them, on one device:
 * <ul>
 * <li>a ConstantNode per distinct scalar argument (boxed primitive; distinct by {@code equals}, over all tasks);</li>
 * <li>an ObjectNode per distinct object (identity) that is a task argument (array or KernelContext), or given to
 * {@code transferToDevice} (any mode; Numbers are skipped, as TornadoVM skips them), {@code transferToHost} with
 * EVERY_EXECUTION, or {@code consumeFromDevice}; and per object given only to {@code transferToHost(UNDER_DEMAND)} or
 * {@code persistOnDevice} (which is that call): TornadoVM locks its buffer for reuse (lockObjectsInMemory), and that
 * registers its object state (insertVariable) unless an earlier transfer or consume call named it;</li>
 * <li>one ContextNode;</li>
 * <li>per task, its AllocateMultipleBuffersNode and its TaskNode: 2;</li>
 * <li>per distinct object used as a task argument, the node at its first use (copy-in, allocate, stream-in or
 * on-device) and its deallocate or persisted node at the end: 2;</li>
 * <li>per occurrence of an array argument, a DependentReadNode. TornadoVM adds it only where its sketcher finds that
 * the kernel writes the parameter (WRITE_ONLY or READ_WRITE); tornado-jvm cannot see that, so it counts every array
 * argument of a Java task as written: <b>the one upper bound</b> of this count. A KernelContext argument gets none: its
 * fields are final and TornadoVM replaces their reads before its dataflow analysis, so it is never written. A library
 * task declares its accesses, which TornadoVM takes as they are: its written arguments are counted exactly;</li>
 * <li>per object transferred to the host with EVERY_EXECUTION that some task writes (its last use then being a
 * DependentReadNode, under the same bound), a CopyOutNode: 1;</li>
 * <li>per object transferred to the device with EVERY_EXECUTION that no task uses and that is not also transferred
 * to the host with EVERY_EXECUTION (buildGraph's {@code if stream-out ... else if stream-in}), a StreamInNode and its
 * deallocate or persisted node: 2.</li>
 * </ul>
 * A library task ({@code TaskGraph.libraryTask}) is a task like the others in both counts, its descriptor's parameters
 * being its arguments.
 * <p>
 * An object given to {@code transferToDevice} with both FIRST_EXECUTION and EVERY_EXECUTION counts as
 * EVERY_EXECUTION (TornadoVM goes by the mode of the last call; the graph here does not keep their order).
 */
public final class GraphLimits {

    /** Slots of a TornadoGraph's node array, which does not grow. */
    public static final int MAX_NODES = 1024;
    /** Size of a task graph's high-level code buffer. */
    public static final int HIGH_LEVEL_CODE_BYTES = 8192;
    /** TornadoGraph.resize()'s message, which TornadoInternalError.unimplemented prefixes with "unimplemented: ". */
    public static final String GRAPH_RESIZE = "Tornado Graph resize not implemented yet.";

    private GraphLimits() {
    }

    /** The nodes of one graph, by kind of term; {@link #total()} is what must stay within {@link #MAX_NODES}. */
    public record Count(int constants, int objects, int tasks, int usedObjects, int writtenArguments, int copyOuts,
            int unusedStreamIns) {

        public int total() {
            return constants + objects + (tasks > 0 ? 1 : 0) + 2 * tasks + 2 * usedObjects + writtenArguments + copyOuts
                    + 2 * unusedStreamIns;
        }
    }

    /** Bytes of high-level code that one task with this many arguments takes. */
    public static int taskBytes(int argumentCount) {
        return 15 + 5 * argumentCount;
    }

    /** Bytes of high-level code the graph's task definitions have written so far. */
    public static int bytes(GraphSpec graph) {
        return graph.highLevelCodeBytes;
    }

    /** The number of nodes TornadoVM's graph builder makes for this graph (see the class comment). */
    public static int nodes(GraphSpec graph) {
        return count(graph).total();
    }

    public static Count count(GraphSpec graph) {
        Set<Object> constants = new HashSet<>();
        Set<Object> objects = identitySet();
        Set<Object> used = identitySet();
        Set<Object> writtenObjects = identitySet();
        int written = 0;
        for (GraphSpec.TaskSpec task : graph.tasks) {
            Object[] args = task.args();
            for (int i = 0; i < args.length; i++) {
                if (isBoxedPrimitive(args[i])) {
                    constants.add(args[i]);
                } else {
                    objects.add(args[i]);
                    used.add(args[i]);
                    if (written(task, i)) {
                        written++;
                        writtenObjects.add(args[i]);
                    }
                }
            }
        }
        Set<Object> streamIn = identitySet();
        for (Object o : graph.toDeviceFirst) {
            if (!(o instanceof Number)) {
                objects.add(o);
            }
        }
        for (Object o : graph.toDeviceEvery) {
            if (!(o instanceof Number)) {
                objects.add(o);
                streamIn.add(o);
            }
        }
        Set<Object> streamOut = identitySet();
        streamOut.addAll(graph.toHostEvery);
        objects.addAll(streamOut);
        objects.addAll(graph.consumed.keySet());
        objects.addAll(graph.toHostOnDemand);
        objects.addAll(graph.persisted);

        int copyOuts = 0;
        for (Object o : streamOut) {
            if (writtenObjects.contains(o)) {
                copyOuts++;
            }
        }
        int unusedStreamIns = 0;
        for (Object o : streamIn) {
            if (!used.contains(o) && !streamOut.contains(o)) {
                unusedStreamIns++;
            }
        }
        return new Count(constants.size(), objects.size(), graph.tasks.size(), used.size(), written, copyOuts, unusedStreamIns);
    }

    /**
     * Whether object argument {@code i} gets a DependentReadNode: as a library task declares it, or for a Java task
     * any argument but a KernelContext (the upper bound).
     */
    private static boolean written(GraphSpec.TaskSpec task, int i) {
        if (task.library() != null) {
            Access access = task.library().getAccess()[i];
            return access == Access.WRITE_ONLY || access == Access.READ_WRITE;
        }
        return !(task.args()[i] instanceof KernelContext);
    }

    /** As TornadoVM at a graph's first execution: fails when the graph has more nodes than a TornadoGraph holds. */
    static void checkNodes(GraphSpec graph) {
        if (nodes(graph) > MAX_NODES) {
            throw TornadoInternalError.unimplemented(GRAPH_RESIZE);
        }
    }

    /**
     * Writes one task's high-level code as TornadoTaskGraph.addInner does, put by put: the put that would pass
     * {@link #HIGH_LEVEL_CODE_BYTES} throws {@link BufferOverflowException}, and the ones before it stay written.
     */
    public static void writeTask(GraphSpec graph, int argumentCount) {
        put(graph, 1); // CONTEXT
        put(graph, 4); // global task id
        put(graph, 4); // task index
        put(graph, 1); // ARG_LIST
        put(graph, 4); // argument count
        for (int i = 0; i < argumentCount; i++) {
            put(graph, 1); // LOAD_PRIM or LOAD_REF
            put(graph, 4); // variable index
        }
        put(graph, 1); // LAUNCH
    }

    private static void put(GraphSpec graph, int bytes) {
        if (graph.highLevelCodeBytes + bytes > HIGH_LEVEL_CODE_BYTES) {
            throw new BufferOverflowException();
        }
        graph.highLevelCodeBytes += bytes;
    }

    /** TornadoVM's test (RuntimeUtilities.isBoxedPrimitiveClass) for an argument passed as a constant. */
    public static boolean isBoxedPrimitive(Object o) {
        return o instanceof Boolean || o instanceof Byte || o instanceof Character || o instanceof Short || o instanceof Integer
                || o instanceof Long || o instanceof Float || o instanceof Double;
    }

    private static Set<Object> identitySet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }
}
