package dev.tgpt.tornadojvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import uk.ac.manchester.tornado.api.GraphSpecs;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryInvocation;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoNativeStreamSupport;

class LibraryTaskTest {

    static final AtomicInteger JAVA_RUNS = new AtomicInteger();

    static void addOne(FloatArray x) {
        JAVA_RUNS.incrementAndGet();
        for (@Parallel int i = 0; i < x.getSize(); i++) {
            x.set(i, x.get(i) + 1);
        }
    }

    @BeforeEach
    void reset() {
        TestLibraries.reset();
        JAVA_RUNS.set(0);
    }

    /** addOne, then the library scales x[2..6) by 10, then addOne: only that order gives (v + 1) * 10 + 1 there. */
    static TaskGraph sandwich(FloatArray x) {
        return new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("before", LibraryTaskTest::addOne, x)
                .libraryTask("scale", TestLibraries::scale, x, 2, 4, 10f).task("after", LibraryTaskTest::addOne, x)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
    }

    static FloatArray oneToEight() {
        return FloatArray.fromArray(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 });
    }

    @Test
    void runsInOrderBetweenJavaTasksOnTheDeviceBuffers() throws Exception {
        FloatArray x = oneToEight();
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(sandwich(x).snapshot())) {
            plan.execute();

            assertArrayEquals(new float[] { 3, 4, 41, 51, 61, 71, 9, 10 }, x.toHeapArray());
            assertEquals(List.of("create", "prepare", "dispatch"), TestLibraries.EVENTS);
            LibraryInvocation call = TestLibraries.INVOCATIONS.getFirst();
            assertEquals(4, call.getNumArgs());
            assertTrue(call.isReference(0));
            assertSame(x, call.getArg(0), "a reference argument's Java argument is the host array");
            assertNotEquals(0, call.getDevicePointer(0));
            assertNotEquals(x.getSegment().address(), call.getDevicePointer(0), "the pointer is the device buffer's, not the host's");
            for (int i = 1; i < 4; i++) {
                assertFalse(call.isReference(i));
                assertEquals(0, call.getDevicePointer(i));
            }
            assertEquals(List.of(2, 4, 10f), List.of(call.getArg(1), call.getArg(2), call.getArg(3)));
            assertSame(TornadoExecutionPlan.getDevice(0, 0), call.getDevice());
            assertEquals(plan.getId(), call.getExecutionPlanId());
            assertSame(TestLibraries.CREATED.getFirst(), call.getContext());
            assertArrayEquals(new Access[] { Access.READ_WRITE, Access.READ_ONLY, Access.READ_ONLY, Access.READ_ONLY },
                    TestLibraries.PREPARED_ACCESS.getFirst());
        }
    }

    @Test
    void theTuningAndFunctionReachTheProvider() {
        FloatArray x = oneToEight();
        Object tuning = new Object();
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x)
                .libraryTask("scale", (FloatArray a, Integer n) -> TestLibraries.scale(a, 0, n, 2f).withTuning(tuning), x, 8)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x);
        new TornadoExecutionPlan(g.snapshot()).execute();
        assertSame(tuning, TestLibraries.INVOCATIONS.getFirst().getTuning());
        assertArrayEquals(new float[] { 2, 4, 6, 8, 10, 12, 14, 16 }, x.toHeapArray());
    }

    @Test
    void oneContextPerPlanCreatedLazilyAndDestroyedWhenThePlanIsFreedOrClosed() throws Exception {
        FloatArray x = oneToEight();
        TornadoExecutionPlan plan = new TornadoExecutionPlan(sandwich(x).snapshot());
        assertTrue(TestLibraries.CREATED.isEmpty());
        plan.execute();
        plan.execute();
        plan.execute();
        assertEquals(1, TestLibraries.CREATED.size());
        assertEquals(plan.getId(), TestLibraries.CREATED.getFirst().planId());
        assertEquals(3, TestLibraries.INVOCATIONS.size());

        try (TornadoExecutionPlan other = new TornadoExecutionPlan(sandwich(oneToEight()).snapshot())) {
            other.execute();
            assertEquals(2, TestLibraries.CREATED.size(), "another plan has its own context");
            assertEquals(other.getId(), TestLibraries.CREATED.get(1).planId());
        }
        assertEquals(List.of(TestLibraries.CREATED.get(1)), TestLibraries.DESTROYED, "closing a plan destroys its contexts only");

        plan.freeDeviceMemory();
        assertEquals(List.of(TestLibraries.CREATED.get(1), TestLibraries.CREATED.getFirst()), TestLibraries.DESTROYED);
        plan.execute();
        assertEquals(3, TestLibraries.CREATED.size(), "a freed plan creates its context again");
        plan.close();
        assertEquals(3, TestLibraries.DESTROYED.size());
    }

    @Test
    void preCompilationCreatesAndPreparesWithoutDispatching() throws Exception {
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(sandwich(oneToEight()).snapshot())) {
            plan.withPreCompilation();
            assertEquals(List.of("create", "prepare"), TestLibraries.EVENTS);
            assertEquals(0, JAVA_RUNS.get());
            plan.execute();
            assertEquals(List.of("create", "prepare", "prepare", "dispatch"), TestLibraries.EVENTS);
        }
        assertEquals(List.of("create", "prepare", "prepare", "dispatch", "destroy"), TestLibraries.EVENTS);
    }

    @Test
    void aProviderThatCannotHandleTheDeviceFailsWithTornadoVMsMessage() {
        FloatArray x = oneToEight();
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x).task("before", LibraryTaskTest::addOne, x)
                .libraryTask("lib", TestLibraries::refused, x);
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(g.snapshot()).execute());
        TornadoDevice device = TornadoExecutionPlan.getDevice(0, 0);
        assertEquals("[ERROR] Library `test/refusing` is not supported on device: " + device
                + ". Select a compatible backend/device for this library task.", e.getMessage());
        assertEquals(1, JAVA_RUNS.get(), "the task before the library task ran, as on TornadoVM's in-order stream");
        assertTrue(TestLibraries.CREATED.isEmpty());
    }

    @Test
    void aLibraryWithoutProviderFailsWithTornadoVMsMessage() {
        TaskGraph g = new TaskGraph("g").libraryTask("lib", TestLibraries::missing, oneToEight());
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(g.snapshot()).execute());
        assertEquals("[ERROR] No provider found for library `test/missing`. Ensure the corresponding TornadoVM library module (e.g., "
                + "tornado-cublas) is on the module path.", e.getMessage());
    }

    @Test
    void emulatedDevicesHaveNoNativeStreamUnlessAsked() throws Exception {
        assumeFalse("1".equals(System.getenv(JvmRuntime.NATIVE_STREAMS)), "native streams are on for the whole run");
        FloatArray x = oneToEight();
        TaskGraph g = new TaskGraph("g").libraryTask("lib", TestLibraries::onStream, x);
        TornadoDevice plain = TornadoExecutionPlan.getDevice(0, 0);
        assertInstanceOf(TornadoXPUDevice.class, plain);
        assertFalse(plain instanceof TornadoNativeStreamSupport);
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> new TornadoExecutionPlan(g.snapshot()).execute());
        assertTrue(e.getMessage().startsWith("[ERROR] Library `test/needs-streams` is not supported on device"), e.getMessage());

        System.setProperty(JvmRuntime.NATIVE_STREAMS_PROPERTY, "true");
        try (TornadoExecutionPlan first = new TornadoExecutionPlan(g.snapshot());
                TornadoExecutionPlan second = new TornadoExecutionPlan(g.snapshot())) {
            TornadoDevice device = TornadoExecutionPlan.getDevice(0, 0);
            TornadoNativeStreamSupport streams = assertInstanceOf(TornadoNativeStreamSupport.class, device);
            first.execute();
            second.execute();
            TestLibraries.Context a = TestLibraries.CREATED.get(0);
            TestLibraries.Context b = TestLibraries.CREATED.get(1);
            assertSame(device, a.device());
            assertNotEquals(0, a.stream());
            assertNotEquals(0, a.nativeContext());
            assertEquals(a.stream(), streams.getNativeStream(first.getId()), "a plan's stream is stable");
            assertNotEquals(a.stream(), b.stream(), "each plan has its own stream");
            assertEquals(a.nativeContext(), b.nativeContext(), "the device has one context");
        } finally {
            System.clearProperty(JvmRuntime.NATIVE_STREAMS_PROPERTY);
        }
        assertFalse(TornadoExecutionPlan.getDevice(0, 0) instanceof TornadoNativeStreamSupport);
    }

    @Test
    void aLibraryTaskIsOneTaskToTheGraphLimitsWithItsDeclaredAccesses() {
        FloatArray x = oneToEight();
        FloatArray y = oneToEight();
        TaskGraph g = new TaskGraph("g").transferToDevice(DataTransferMode.EVERY_EXECUTION, x, y)
                .libraryTask("lib", (FloatArray a, FloatArray b) -> new LibraryTaskDescriptor().withLibrary(TestLibraries.SCALE)
                        .withFunction("f").withParameters(new Object[] { a, b, 3 }).withAccess(new Access[] { Access.READ_ONLY, Access.WRITE_ONLY,
                                Access.READ_ONLY }), x, y)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, x, y);
        GraphSpec spec = GraphSpecs.of(g);
        assertEquals(GraphLimits.taskBytes(3), GraphLimits.bytes(spec));
        // one constant, two objects used, y alone written (so copied out), as TornadoVM's graph builder counts them
        assertEquals(new GraphLimits.Count(1, 2, 1, 2, 1, 1, 0), GraphLimits.count(spec));
    }

    @Test
    void aDescriptorNeedsOneAccessPerParameterAndArraysOrPrimitives() {
        FloatArray x = oneToEight();
        TaskGraph g = new TaskGraph("g");
        TornadoRuntimeException e = assertThrows(TornadoRuntimeException.class, () -> g.libraryTask("lib",
                (FloatArray a) -> new LibraryTaskDescriptor().withLibrary(TestLibraries.SCALE).withParameters(new Object[] { a, 1 })
                        .withAccess(new Access[] { Access.READ_WRITE }), x));
        assertTrue(e.getMessage().contains("one access per parameter"), e.getMessage());
        e = assertThrows(TornadoRuntimeException.class, () -> g.libraryTask("lib",
                (String s) -> new LibraryTaskDescriptor().withLibrary(TestLibraries.SCALE).withParameters(new Object[] { s })
                        .withAccess(new Access[] { Access.READ_ONLY }), "text"));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
        assertTrue(GraphSpecs.of(g).tasks.isEmpty());
    }
}
