package dev.tgpt.tornadojvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class EmulatorTest {

    static final int TILE = 4;

    static void add(FloatArray a, FloatArray b, FloatArray c) {
        for (@Parallel int i = 0; i < c.getSize(); i++) {
            c.set(i, a.get(i) + b.get(i));
        }
    }

    /** c = a·b for n×n matrices, tiled through local memory: wrong without working barriers and shared tiles. */
    static void tiledMatmul(KernelContext ctx, FloatArray a, FloatArray b, FloatArray c, int n) {
        int row = ctx.globalIdy;
        int col = ctx.globalIdx;
        int ly = ctx.localIdy;
        int lx = ctx.localIdx;
        float[] ta = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] tb = ctx.allocateFloatLocalArray(TILE * TILE);
        float sum = 0;
        for (int t = 0; t < n; t += TILE) {
            ta[ly * TILE + lx] = row < n && t + lx < n ? a.get(row * n + t + lx) : 0;
            tb[ly * TILE + lx] = col < n && t + ly < n ? b.get((t + ly) * n + col) : 0;
            ctx.localBarrier();
            for (int k = 0; k < TILE; k++) {
                sum += ta[ly * TILE + k] * tb[k * TILE + lx];
            }
            ctx.localBarrier();
        }
        if (row < n && col < n) {
            c.set(row * n + col, sum);
        }
    }

    /** Returns early on odd work-items, so the others wait at a barrier that never completes. */
    static void divergent(KernelContext ctx, FloatArray out) {
        if (ctx.localIdx % 2 == 1) {
            return;
        }
        ctx.localBarrier();
        out.set(ctx.globalIdx, 1);
    }

    static void hugeLocal(KernelContext ctx, FloatArray out) {
        float[] big = ctx.allocateFloatLocalArray(16 * 1024);
        big[ctx.localIdx] = 1;
        out.set(ctx.globalIdx, big[0]);
    }

    static void scale(FloatArray x, float factor) {
        for (@Parallel int i = 0; i < x.getSize(); i++) {
            x.set(i, x.get(i) * factor);
        }
    }

    @Test
    void parallelLoopRunsAndTransfers() throws Exception {
        FloatArray a = FloatArray.fromArray(new float[] { 1, 2, 3 });
        FloatArray b = FloatArray.fromArray(new float[] { 10, 20, 30 });
        FloatArray c = new FloatArray(3);
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, a, b)
                .task("add", EmulatorTest::add, a, b, c).transferToHost(DataTransferMode.EVERY_EXECUTION, c);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.execute();
        }
        assertArrayEquals(new float[] { 11, 22, 33 }, c.toHeapArray());
    }

    @Test
    void tiledKernelWithBarriersMatchesPlainMatmul() throws Exception {
        int n = 10; // not a multiple of the tile: edge tiles are padded
        Random r = new Random(1);
        float[] ha = new float[n * n];
        float[] hb = new float[n * n];
        for (int i = 0; i < n * n; i++) {
            ha[i] = r.nextFloat();
            hb[i] = r.nextFloat();
        }
        FloatArray a = FloatArray.fromArray(ha);
        FloatArray b = FloatArray.fromArray(hb);
        FloatArray c = new FloatArray(n * n);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, a, b)
                .task("mm", EmulatorTest::tiledMatmul, ctx, a, b, c, n).transferToHost(DataTransferMode.EVERY_EXECUTION, c);
        WorkerGrid2D grid = new WorkerGrid2D(12, 12);
        grid.setLocalWork(TILE, TILE, 1);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withGridScheduler(new GridScheduler("g.mm", grid)).execute();
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float want = 0;
                for (int k = 0; k < n; k++) {
                    want += ha[i * n + k] * hb[k * n + j];
                }
                assertEquals(want, c.get(i * n + j), 1e-5f);
            }
        }
    }

    @Test
    void barrierDivergenceFails() {
        FloatArray out = new FloatArray(8);
        TaskGraph g = new TaskGraph("g").task("d", EmulatorTest::divergent, new KernelContext(), out)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        WorkerGrid1D grid = new WorkerGrid1D(8);
        grid.setLocalWork(4, 1, 1);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot()).withGridScheduler(new GridScheduler("g.d", grid));
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, plan::execute);
        assertTrue(e.getMessage().contains("barrier divergence"), e.getMessage());
    }

    @Test
    void localMemoryBeyondTheGpuLimitFails() {
        FloatArray out = new FloatArray(4);
        TaskGraph g = new TaskGraph("g").task("h", EmulatorTest::hugeLocal, new KernelContext(), out);
        WorkerGrid1D grid = new WorkerGrid1D(4);
        grid.setLocalWork(4, 1, 1);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot()).withGridScheduler(new GridScheduler("g.h", grid));
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, plan::execute);
        assertTrue(e.getMessage().contains("local memory"), e.getMessage());
    }

    @Test
    void kernelContextTaskNeedsAGrid() {
        TaskGraph g = new TaskGraph("g").task("h", EmulatorTest::hugeLocal, new KernelContext(), new FloatArray(4));
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot());
        assertThrows(TornadoRuntimeException.class, plan::execute);
    }

    @Test
    void deviceMemoryIsSeparateFromTheHost() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        // Not transferred to the device: the kernel reads garbage, as it would on a GPU.
        TaskGraph g = new TaskGraph("g").task("s", EmulatorTest::scale, x, 2f).transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        new TornadoExecutionPlan(g.snapshot()).execute();
        assertTrue(Float.isNaN(x.get(0)));

        // Transferred in but not out: the host copy is unchanged until asked for.
        FloatArray y = FloatArray.fromArray(new float[] { 1, 2 });
        TaskGraph h = new TaskGraph("h").transferToDevice(DataTransferMode.FIRST_EXECUTION, y).task("s", EmulatorTest::scale, y, 3f)
                .transferToHost(DataTransferMode.UNDER_DEMAND, y);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(h.snapshot());
        var result = plan.execute();
        assertEquals(1f, y.get(0));
        plan.execute(); // FIRST_EXECUTION: the device copy is scaled again, not reloaded
        result.transferToHost(y);
        assertArrayEquals(new float[] { 9, 18 }, y.toHeapArray());
    }

    @Test
    void persistedBuffersAreConsumedByALaterGraph() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        TaskGraph first = new TaskGraph("first").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("s", EmulatorTest::scale, x, 2f)
                .persistOnDevice(x);
        TaskGraph second = new TaskGraph("second").consumeFromDevice(x).task("s", EmulatorTest::scale, x, 5f)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(first.snapshot(), second.snapshot());
        plan.execute();
        assertArrayEquals(new float[] { 10, 20 }, x.toHeapArray());
        plan.withGraph(1).execute();
        assertArrayEquals(new float[] { 50, 100 }, x.toHeapArray());
    }

    /** A producer A persisting x, another graph B, and C consuming x from A by name (TornadoVM #996). */
    static TornadoExecutionPlan producerOtherConsumer(FloatArray x) {
        TaskGraph a = new TaskGraph("A").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("s", EmulatorTest::scale, x, 2f)
                .persistOnDevice(x);
        FloatArray z = FloatArray.fromArray(new float[] { 1 });
        TaskGraph b = new TaskGraph("B").transferToDevice(DataTransferMode.EVERY_EXECUTION, z).task("s", EmulatorTest::scale, z, 3f)
                .persistOnDevice(z);
        TaskGraph c = new TaskGraph("C").consumeFromDevice("A", x).task("s", EmulatorTest::scale, x, 5f)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        return new TornadoExecutionPlan(a.snapshot(), b.snapshot(), c.snapshot());
    }

    @Test
    void consumingByNameFromAGraphThatDidNotRunLastFails() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        TornadoExecutionPlan plan = producerOtherConsumer(x);
        plan.withGraph(0).execute();
        plan.withGraph(1).execute();
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> plan.withGraph(2).execute());
        String m = e.getMessage();
        assertTrue(m.contains("graph C") && m.contains("graph A") && m.contains("is B") && m.contains("TornadoVM #996")
                && m.contains("silently read a stale buffer"), m);
        // all three in order: B runs between A and C
        assertThrows(TornadoRuntimeException.class, () -> plan.withAllGraphs().execute());
    }

    @Test
    void consumingByNameFromTheGraphThatRanLastWorks() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        TornadoExecutionPlan plan = producerOtherConsumer(x);
        plan.withGraph(1).execute();
        plan.withGraph(0).execute();
        plan.withGraph(2).execute();
        assertArrayEquals(new float[] { 10, 20 }, x.toHeapArray());
        // after B, then A again, it works again
        plan.withGraph(1).execute();
        plan.withGraph(0).execute();
        plan.withGraph(2).execute();
        assertArrayEquals(new float[] { 100, 200 }, x.toHeapArray());
    }

    @Test
    void consumingByTheGraphsOwnNameIsTheUnnamedConsume() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        TaskGraph first = new TaskGraph("first").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("s", EmulatorTest::scale, x, 2f)
                .persistOnDevice(x);
        TaskGraph second = new TaskGraph("second").consumeFromDevice("second", x).task("s", EmulatorTest::scale, x, 5f)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        new TornadoExecutionPlan(first.snapshot(), second.snapshot()).execute();
        assertArrayEquals(new float[] { 10, 20 }, x.toHeapArray());
    }

    /** TornadoVM 5.2 hangs on such a task (a written argument passed again becomes a read that waits on the task). */
    @Test
    void aTaskThatWritesAnArrayItIsGivenTwiceFails() {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2 });
        FloatArray y = FloatArray.fromArray(new float[] { 3, 4 });
        TaskGraph writes = new TaskGraph("w").transferToDevice(DataTransferMode.EVERY_EXECUTION, x, y).task("t", EmulatorTest::add, x, y, x)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(writes.snapshot()).execute());
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
        // read twice, written elsewhere: fine
        TaskGraph reads = new TaskGraph("r").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("t", EmulatorTest::add, x, x, y)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        new TornadoExecutionPlan(reads.snapshot()).execute();
        assertArrayEquals(new float[] { 2, 4 }, y.toHeapArray());
    }

    @Test
    void consumingWhatNoGraphPersistedFails() {
        FloatArray x = new FloatArray(2);
        TaskGraph g = new TaskGraph("g").consumeFromDevice(x).task("s", EmulatorTest::scale, x, 2f);
        assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(g.snapshot()).execute());
    }

    @Test
    void scalarsAreCapturedWhenTheTaskIsDefined() {
        FloatArray x = FloatArray.fromArray(new float[] { 1 });
        float[] factor = { 2f };
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("s", EmulatorTest::scale, x, factor[0])
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot());
        factor[0] = 100f;
        plan.execute();
        assertEquals(2f, x.get(0));
    }

    @Test
    void firstExecutionBuffersCannotBeConsumedElsewhere() {
        FloatArray x = FloatArray.fromArray(new float[] { 1 });
        TaskGraph up = new TaskGraph("up").transferToDevice(DataTransferMode.FIRST_EXECUTION, x).task("s", EmulatorTest::scale, x, 1f)
                .persistOnDevice(x);
        TaskGraph use = new TaskGraph("use").consumeFromDevice(x).task("s", EmulatorTest::scale, x, 2f);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(up.snapshot(), use.snapshot());
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, plan::execute);
        assertTrue(e.getMessage().contains("FIRST_EXECUTION"), e.getMessage());
    }

    @Test
    void aGridSchedulerNamingNoTaskIsRejected() {
        TaskGraph g = new TaskGraph("g").task("s", EmulatorTest::scale, new FloatArray(1), 2f);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot());
        assertThrows(TornadoRuntimeException.class, () -> plan.withGridScheduler(new GridScheduler()));
    }

    @Test
    void aGraphWithoutTasksIsRejected() {
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, new FloatArray(1));
        assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(g.snapshot()));
    }
}
