package dev.tgpt.tornadojvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.BufferOverflowException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import uk.ac.manchester.tornado.api.GraphSpecs;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoInternalError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class GraphLimitsTest {

    static final String RESIZE = "unimplemented: Tornado Graph resize not implemented yet.";

    /** Tasks run so far: a graph over the node limit must run none of its tasks. */
    static final AtomicInteger RUNS = new AtomicInteger();

    static void axpy(FloatArray x, FloatArray y, int a) {
        RUNS.incrementAndGet();
        for (int i = 0; i < y.getSize(); i++) {
            y.set(i, y.get(i) + a * x.get(i));
        }
    }

    static void withContext(KernelContext ctx, FloatArray x, FloatArray y) {
        RUNS.incrementAndGet();
    }

    @BeforeEach
    void reset() {
        RUNS.set(0);
    }

    /** k tasks axpy(x, y, 7) on one pair of arrays: x in once, y out every execution. */
    static TaskGraph shared(int k) {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        FloatArray y = new FloatArray(2);
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, x, y);
        for (int i = 0; i < k; i++) {
            g.task("t" + i, GraphLimitsTest::axpy, x, y, 7);
        }
        return g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
    }

    static int nodes(TaskGraph g) {
        return GraphLimits.nodes(GraphSpecs.of(g));
    }

    /** The largest k whose graph has at most 1,024 nodes, for a count linear in k. */
    static int largest(IntFunction<TaskGraph> graph) {
        int base = nodes(graph.apply(1));
        int perTask = nodes(graph.apply(2)) - base;
        return (GraphLimits.MAX_NODES - base) / perTask + 1;
    }

    @Test
    void sharedArraysAndOneConstantTake4kPlus9Nodes() {
        // 1 constant + 2 objects + 1 context + 2k (allocate-buffers, task) + 2·2 (copy-in, deallocate per array)
        // + 2k dependent reads (every array argument counted as written) + 1 copy-out (y)
        for (int k : new int[] { 1, 2, 3, 10, 100 }) {
            assertEquals(4 * k + 9, nodes(shared(k)), "k = " + k);
        }
        assertEquals(new GraphLimits.Count(1, 2, 10, 2, 20, 1, 0), GraphLimits.count(GraphSpecs.of(shared(10))));
        assertEquals(253, largest(GraphLimitsTest::shared));
        assertEquals((GraphLimits.MAX_NODES - 9) / 4, 253);
    }

    @Test
    void theLargestGraphRunsAndOneTaskMoreFailsAtItsFirstExecution() {
        TaskGraph fits = shared(253);
        assertEquals(1021, nodes(fits));
        new TornadoExecutionPlan(fits.snapshot()).execute();
        assertEquals(253, RUNS.get());

        RUNS.set(0);
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        FloatArray y = FloatArray.fromArray(new float[] { 5, 5 });
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x, y);
        for (int i = 0; i < 254; i++) {
            g.task("t" + i, GraphLimitsTest::axpy, x, y, 7);
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        assertEquals(1025, nodes(g));
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot()); // defining and planning are fine
        TornadoInternalError e = assertThrows(TornadoInternalError.class, plan::execute);
        assertEquals(RESIZE, e.getMessage());
        assertEquals(0, RUNS.get());
        assertArrayEquals(new float[] { 5, 5 }, y.toHeapArray());
        // it is not built on a later execution either
        assertThrows(TornadoInternalError.class, plan::execute);
        // and withPreCompilation builds the graphs, as TornadoVM's does
        assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(g.snapshot()).withPreCompilation());
    }

    @Test
    void exactly1024NodesRunAnd1025Fail() {
        // 1021 nodes, and an object transferred in but used by no task takes one node (its ObjectNode)
        TaskGraph at = shared(253).transferToDevice(DataTransferMode.FIRST_EXECUTION, new FloatArray(1), new FloatArray(1),
                new FloatArray(1));
        assertEquals(1024, nodes(at));
        new TornadoExecutionPlan(at.snapshot()).withPreCompilation().execute();
        assertEquals(253, RUNS.get());

        RUNS.set(0);
        TaskGraph over = at.transferToDevice(DataTransferMode.FIRST_EXECUTION, new FloatArray(1));
        assertEquals(1025, nodes(over));
        assertEquals(RESIZE, assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(over.snapshot()).execute()).getMessage());
        assertEquals(0, RUNS.get());
    }

    @Test
    void onlyTheGraphOverTheLimitFailsAndTheOnesBeforeItRan() {
        TaskGraph small = shared(3);
        TaskGraph big = new TaskGraph("big");
        FloatArray x = new FloatArray(1);
        for (int i = 0; i < 260; i++) { // 1,045 nodes, in 7,800 bytes
            big.task("t" + i, GraphLimitsTest::axpy, x, x, 1);
        }
        TornadoExecutionPlan plan = new TornadoExecutionPlan(small.snapshot(), big.snapshot());
        assertThrows(TornadoInternalError.class, plan::execute);
        assertEquals(3, RUNS.get());
    }

    @Test
    void everyDistinctConstantTakesANode() {
        IntFunction<TaskGraph> distinct = k -> {
            FloatArray x = new FloatArray(2);
            FloatArray y = new FloatArray(2);
            TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, x, y);
            for (int i = 0; i < k; i++) {
                g.task("t" + i, GraphLimitsTest::axpy, x, y, i);
            }
            return g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        };
        for (int k : new int[] { 1, 2, 50 }) {
            assertEquals(5 * k + 8, nodes(distinct.apply(k)), "k = " + k);
            assertEquals(4 * k + 9, nodes(shared(k)), "k = " + k);
        }
        assertEquals(203, largest(distinct));
        assertEquals(1023, nodes(distinct.apply(203)));
        new TornadoExecutionPlan(distinct.apply(203).snapshot()).execute();
        assertEquals(RESIZE, assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(distinct.apply(204).snapshot()).execute())
                .getMessage());

        // distinct by equals, across tasks and types: 2f twice is one constant, 2 (int) another
        FloatArray x = new FloatArray(1);
        TaskGraph g = new TaskGraph("g").task("a", EmulatorTest::scale, x, 2f).task("b", EmulatorTest::scale, x, 2f)
                .task("c", GraphLimitsTest::axpy, x, x, 2);
        assertEquals(2, GraphLimits.count(GraphSpecs.of(g)).constants());
    }

    @Test
    void anArrayPairPerTaskTakes11kPlus2Nodes() {
        // per task: 2 objects, 2 + 2·2 nodes, 2 dependent reads, 1 copy-out; 1 shared constant and 1 context
        IntFunction<TaskGraph> pairs = k -> {
            TaskGraph g = new TaskGraph("g");
            for (int i = 0; i < k; i++) {
                FloatArray x = new FloatArray(2);
                FloatArray y = new FloatArray(2);
                g.transferToDevice(DataTransferMode.FIRST_EXECUTION, x).task("t" + i, GraphLimitsTest::axpy, x, y, 7)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, y);
            }
            return g;
        };
        for (int k : new int[] { 1, 2, 10 }) {
            assertEquals(11 * k + 2, nodes(pairs.apply(k)), "k = " + k);
        }
        assertEquals(92, largest(pairs));
        new TornadoExecutionPlan(pairs.apply(92).snapshot()).execute();
        assertEquals(1025, nodes(pairs.apply(93)));
        assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(pairs.apply(93).snapshot()).execute());
    }

    @Test
    void aKernelContextIsAnObjectButNeverWritten() {
        // shared: 3 objects (ctx, x, y), 2·3 first-use and deallocate, 2k reads of x and y only, y copied out
        IntFunction<TaskGraph> shared = k -> {
            KernelContext ctx = new KernelContext();
            FloatArray x = new FloatArray(2);
            FloatArray y = new FloatArray(2);
            TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, x);
            for (int i = 0; i < k; i++) {
                g.task("t" + i, GraphLimitsTest::withContext, ctx, x, y);
            }
            return g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        };
        // one context per task: each is one more object, first use and deallocate
        IntFunction<TaskGraph> own = k -> {
            FloatArray x = new FloatArray(2);
            FloatArray y = new FloatArray(2);
            TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, x);
            for (int i = 0; i < k; i++) {
                g.task("t" + i, GraphLimitsTest::withContext, new KernelContext(), x, y);
            }
            return g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        };
        for (int k : new int[] { 1, 2, 20 }) {
            assertEquals(4 * k + 11, nodes(shared.apply(k)), "k = " + k);
            assertEquals(7 * k + 8, nodes(own.apply(k)), "k = " + k);
        }
        assertEquals(253, largest(shared));
        assertEquals(145, largest(own));
        // the node limit fails the graph before anything else is looked at (here: the missing worker grids)
        assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(shared.apply(254).snapshot()).execute());
        assertThrows(TornadoInternalError.class, () -> new TornadoExecutionPlan(own.apply(146).snapshot()).execute());
        assertEquals(0, RUNS.get());
    }

    @Test
    void unusedEveryExecutionStreamInsTakeThreeNodesEach() {
        int base = nodes(shared(5));
        FloatArray u1 = new FloatArray(1);
        FloatArray u2 = new FloatArray(1);
        // ObjectNode, StreamInNode and its deallocate node
        assertEquals(base + 6, nodes(shared(5).transferToDevice(DataTransferMode.EVERY_EXECUTION, u1, u2)));
        // FIRST_EXECUTION and unused: only the ObjectNode
        assertEquals(base + 2, nodes(shared(5).transferToDevice(DataTransferMode.FIRST_EXECUTION, u1, u2)));
        // also streamed out: buildGraph's else-if makes no stream-in for it, and no copy-out as no task wrote it
        assertEquals(base + 1, nodes(shared(5).transferToDevice(DataTransferMode.EVERY_EXECUTION, u1)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, u1)));
        // used by a task: its first use is the stream-in, counted with the task's objects
        FloatArray x = new FloatArray(1);
        TaskGraph used = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("s", EmulatorTest::scale, x, 2f);
        assertEquals(1 + 1 + 1 + 2 + 2 + 1, nodes(used));
        // a scalar given to transferToDevice is skipped, as TornadoVM skips Numbers
        assertEquals(base, nodes(shared(5).transferToDevice(DataTransferMode.EVERY_EXECUTION, 3f)));
    }

    @Test
    void consumedOrPersistedButUnusedObjectsTakeOneNodeEach() {
        int base = nodes(shared(5));
        assertEquals(base + 2, nodes(shared(5).consumeFromDevice(new FloatArray(1), new FloatArray(1))));
        // consumed and used: its first use is the on-device node, counted with the task's objects
        FloatArray x = new FloatArray(1);
        assertEquals(nodes(new TaskGraph("g").task("s", EmulatorTest::scale, x, 2f)),
                nodes(new TaskGraph("g").consumeFromDevice(x).task("s", EmulatorTest::scale, x, 2f)));
        // persistOnDevice (= transferToHost UNDER_DEMAND) locks the buffer for reuse, which registers the object: one
        // node for an object nothing else named, none for one already there
        assertEquals(base + 2, nodes(shared(5).persistOnDevice(new FloatArray(1)).transferToHost(DataTransferMode.UNDER_DEMAND, new FloatArray(1))));
        assertEquals(nodes(new TaskGraph("g").task("s", EmulatorTest::scale, x, 2f)),
                nodes(new TaskGraph("g").task("s", EmulatorTest::scale, x, 2f).persistOnDevice(x)));
    }

    static void fifteen(int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9, int a10, int a11, int a12, int a13, int a14,
            int a15) {
    }

    static void none() {
    }

    static void one(int a) {
    }

    @Test
    void tasksFillTheHighLevelCodeBufferUntilTheOneThatOverflowsIt() {
        assertEquals(90, GraphLimits.taskBytes(15));
        int fit = GraphLimits.HIGH_LEVEL_CODE_BYTES / GraphLimits.taskBytes(15);
        assertEquals(91, fit);
        TaskGraph g = new TaskGraph("g");
        for (int i = 0; i < fit; i++) {
            g.task("t" + i, GraphLimitsTest::fifteen, i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        }
        assertEquals(91 * 90, GraphLimits.bytes(GraphSpecs.of(g)));
        assertThrows(BufferOverflowException.class,
                () -> g.task("over", GraphLimitsTest::fifteen, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14));
        // the graph as defined before the overflow still runs
        assertEquals(fit, GraphSpecs.of(g).tasks.size());
        new TornadoExecutionPlan(g.snapshot()).execute();

        // 3 arguments: 30 bytes a task, 273 tasks fit
        TaskGraph h = new TaskGraph("h");
        FloatArray x = new FloatArray(1);
        int i = 0;
        for (; i < GraphLimits.HIGH_LEVEL_CODE_BYTES / GraphLimits.taskBytes(3); i++) {
            h.task("t" + i, GraphLimitsTest::axpy, x, x, 1);
        }
        assertEquals(273, i);
        assertThrows(BufferOverflowException.class, () -> h.task("over", GraphLimitsTest::axpy, x, x, 1));
    }

    @Test
    void anOverflowLeavesItsPartialWritesSoNoLaterTaskFits() {
        TaskGraph g = new TaskGraph("g");
        for (int i = 0; i < 545; i++) {
            g.task("t" + i, GraphLimitsTest::none);
        }
        assertEquals(8175, GraphLimits.bytes(GraphSpecs.of(g)));
        // 17 bytes left: a one-argument task (20) overflows at its argument's index, after writing 15 of its bytes
        assertThrows(BufferOverflowException.class, () -> g.task("one", GraphLimitsTest::one, 1));
        assertEquals(8190, GraphLimits.bytes(GraphSpecs.of(g)));
        // so a task without arguments (15), which fitted before, does not now: as in TornadoVM
        assertThrows(BufferOverflowException.class, () -> g.task("none", GraphLimitsTest::none));
    }
}
