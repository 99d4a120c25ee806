package dev.tgpt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.ResidualOps;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Programs cut into task graphs under TornadoVM 5.2's limits. The boundary tests run on the device itself (in SDK
 * mode TornadoVM, in JVM mode tornado-jvm): a graph the engine counts at 1,024 nodes runs, and one more task fails
 * with TornadoVM's own error, so the engine's count and the runtime's agree there.
 */
class GraphPlanTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /** The device's raw TornadoVM indices, for graphs built here without the engine's planning. */
    static TornadoExecutionPlan plan(ImmutableTaskGraph g) {
        String[] d = System.getProperty("tgpt.device", "0:0").split(":");
        TornadoExecutionPlan p = new TornadoExecutionPlan(g);
        p.withDevice(TornadoExecutionPlan.getDevice(Integer.parseInt(d[0]), Integer.parseInt(d[1])));
        return p;
    }

    /** One graph of these launches' tasks, each array kept on the device; returns the engine's count of its nodes. */
    static int build(TaskGraph g, List<Launch> launches) {
        GraphPlan.Estimate e = new GraphPlan.Estimate(List.of());
        KernelContext context = new KernelContext();
        List<Object> arrays = new ArrayList<>();
        for (int i = 0; i < launches.size(); i++) {
            GraphPlan.Step s = new GraphPlan.Step(launches.get(i), "t" + i, GraphPlan.record(launches.get(i), "t" + i, context));
            e.add(s);
            s.calls().get(0).graph().accept(g);
            for (Object a : s.calls().get(0).args()) {
                if (GraphPlan.isArray(a)) {
                    arrays.add(a);
                }
            }
        }
        g.persistOnDevice(arrays.toArray());
        return e.nodes();
    }

    /**
     * One graph of k launches, each writing 1s into an array of its own: the engine must count 6k + 4 nodes; at 1,024
     * (k = 170) TornadoVM runs it, at 1,030 (k = 171) it fails the graph ("resize not implemented").
     */
    static void atTheLimit(String name, int size, BiFunction<FloatArray, Integer, Launch> launch) {
        for (int k : new int[] { 170, 171 }) {
            List<FloatArray> arrays = new ArrayList<>();
            List<Launch> launches = new ArrayList<>();
            GridScheduler grids = new GridScheduler();
            for (int i = 0; i < k; i++) {
                FloatArray a = new FloatArray(size);
                arrays.add(a);
                launches.add(launch.apply(a, size));
                if (launches.get(i).grid() != null) {
                    grids.addWorkerGrid(name + ".t" + i, launches.get(i).grid());
                }
            }
            TaskGraph g = new TaskGraph(name);
            int nodes = build(g, launches);
            assertEquals(6 * k + 4, nodes);
            try (TornadoExecutionPlan p = plan(g.snapshot())) {
                if (!grids.keySet().isEmpty()) {
                    p.withGridScheduler(grids);
                }
                if (nodes <= GraphPlan.MAX_NODES) {
                    p.execute().transferToHost(arrays.toArray());
                    for (FloatArray a : arrays) {
                        assertEquals(1f, a.get(size - 1));
                    }
                } else {
                    Throwable t = assertThrows(Throwable.class, p::execute);
                    assertTrue(String.valueOf(t.getMessage()).contains("resize not implemented"), t.toString());
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    /**
     * Fills: 3 constants (offset, size, value), k objects, a context node, 2 per task, 2 per array used, 1 per written
     * argument: 6k + 4 nodes, exact here since Fill writes its one array.
     */
    @Test
    void fillsTheEngineCountsAt1024NodesRunAndOneMoreFails() {
        atTheLimit("fills", 4, (a, n) -> FillOps.fill(a, 1f));
    }

    static void ones(KernelContext ctx, FloatArray a) {
        a.set(ctx.globalIdx, 1f);
    }

    /**
     * KernelContext tasks sharing one context: k + 1 objects, a context node, 2 per task, 2 per object used (the
     * context too), 1 per array argument (a KernelContext is never written): 6k + 4 nodes. Were the context counted
     * written, TornadoVM would reject 170 tasks (7k + 4 = 1,194).
     */
    @Test
    void kernelContextTasksAt1024NodesRunAndOneMoreFails() {
        atTheLimit("ones", 8, (a, n) -> Launch.groups("ones", 1, n, (g, id, ctx) -> g.task(id, GraphPlanTest::ones, ctx, a), jvm -> a.init(1f)));
    }

    /** A program of many launches becomes several graphs, each within the limits, and computes what one graph would. */
    @ParameterizedTest
    @MethodSource("backends")
    void aLongProgramIsCutIntoGraphsThatHandTheirArraysOn(Backend backend) {
        int n = 5;
        int k = 300;
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2, 3, 4, 5 });
        FloatArray one = FloatArray.fromArray(new float[] { 1, 1, 1, 1, 1 });
        // a chain through k arrays that only the device holds: x + 1 + 1 + ... into the last, then back into x
        List<FloatArray> chain = new ArrayList<>();
        Program p = new Program("chain").state(x).inputs(one);
        FloatArray prev = x;
        for (int i = 0; i < k; i++) {
            FloatArray next = new FloatArray(n);
            p.add(ResidualOps.forward(next, prev, one, n));
            chain.add(next);
            prev = next;
        }
        p.add(ResidualOps.forward(x, prev, one, n));
        GraphPlan plan = new GraphPlan(p);
        List<GraphPlan.Chunk> chunks = plan.chunks.get(p);
        assertTrue(chunks.size() > 1, "one graph of " + (k + 1) + " launches");
        for (GraphPlan.Chunk c : chunks) {
            GraphPlan.Estimate e = new GraphPlan.Estimate(plan.shared);
            c.steps().forEach(e::add);
            assertTrue(e.nodes() <= GraphPlan.MAX_NODES && e.codeBytes <= GraphPlan.MAX_CODE_BYTES, c.name() + ": " + e.nodes());
            assertEquals("chain_" + chunks.indexOf(c), c.name());
        }
        try (Session s = backend.open(p)) {
            s.run(p);
            s.run(p);
            s.read(x);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(i + 1 + 2 * (k + 1), x.get(i), 0f);
        }
    }

    /** Programs of several graphs each, run in any order, see each other's latest values (no stale hand-off). */
    @ParameterizedTest
    @MethodSource("backends")
    void programsOfSeveralGraphsRunInAnyOrder(Backend backend) {
        int n = 3;
        FloatArray x = FloatArray.fromArray(new float[] { 0, 0, 0 });
        FloatArray out = new FloatArray(n);
        Program up = longAdd("up", x, 1f, 200);
        Program down = longAdd("down", x, -0.5f, 200);
        FloatArray zero = new FloatArray(n);
        Program look = new Program("look").state(x, zero).outputs(out).add(ResidualOps.forward(out, x, zero, n));
        try (Session s = backend.open(up, down, look)) {
            s.run(up); // 200
            s.run(look);
            assertEquals(200f, out.get(0));
            s.run(down); // 100
            s.run(down); // 0
            s.run(up); // 200
            s.run(down); // 100
            s.run(look);
            assertEquals(100f, out.get(2));
        }
    }

    /** x += step, k times, through k temporaries. */
    static Program longAdd(String name, FloatArray x, float step, int k) {
        int n = x.getSize();
        FloatArray d = new FloatArray(n);
        d.init(step);
        Program p = new Program(name).state(x, d);
        FloatArray prev = x;
        for (int i = 0; i < k; i++) {
            FloatArray next = i == k - 1 ? x : new FloatArray(n);
            p.add(ResidualOps.forward(next, prev, d, n));
            prev = next;
        }
        return p;
    }

    @Test
    void aSlabViewPassedToATaskIsRefused() {
        Slab slab = new Slab(4, 4);
        FloatArray a = new FloatArray(4);
        Program p = new Program("bad").add(ResidualOps.forward(a, slab.view(1), slab.view(0), 4));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new GraphPlan(p));
        assertTrue(e.getMessage().contains("slab view"), e.getMessage());
    }

    @Test
    void aSessionOfOneShortProgramIsOneGraphNamedAfterIt() {
        FloatArray a = new FloatArray(2);
        Program p = new Program("short").state(a).add(FillOps.fill(a, 2f));
        GraphPlan plan = new GraphPlan(p);
        assertEquals(List.of("short"), plan.chunks.get(p).stream().map(GraphPlan.Chunk::name).toList());
        assertEquals(List.of("upload"), plan.uploads.stream().map(GraphPlan.Chunk::name).toList());
    }

    /** Host code ends a graph: it runs after the graph before it (before the first graph, when it comes first). */
    @Test
    void hostCodeEndsAGraph() {
        FloatArray a = new FloatArray(2);
        Launch first = Launch.host("first", () -> { });
        Launch between = Launch.host("between", () -> { });
        Launch last = Launch.host("last", () -> { });
        Program p = new Program("withHost").state(a).add(first).add(FillOps.fill(a, 1f)).add(between).add(FillOps.fill(a, 2f))
                .add(FillOps.fill(a, 3f)).add(last);
        List<GraphPlan.Chunk> chunks = new GraphPlan(p).chunks.get(p);
        assertEquals(List.of(1, 2), chunks.stream().map(c -> c.steps().size()).toList());
        assertEquals(List.of(List.of(first), List.of()), chunks.stream().map(GraphPlan.Chunk::before).toList());
        assertEquals(List.of(List.of(between), List.of(last)), chunks.stream().map(GraphPlan.Chunk::after).toList());
    }
}
