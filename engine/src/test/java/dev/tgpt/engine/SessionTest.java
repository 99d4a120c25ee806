package dev.tgpt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Programs of one session share their state on the device, whatever order they run in. */
class SessionTest {

    static void scale(FloatArray x, float f) {
        for (@Parallel int i = 0; i < x.getSize(); i++) {
            x.set(i, x.get(i) * f);
        }
    }

    static void addInto(FloatArray x, FloatArray y) {
        for (@Parallel int i = 0; i < x.getSize(); i++) {
            x.set(i, x.get(i) + y.get(i));
        }
    }

    static void copy(FloatArray dst, FloatArray src) {
        for (@Parallel int i = 0; i < dst.getSize(); i++) {
            dst.set(i, src.get(i));
        }
    }

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void stateStaysOnTheDeviceAcrossPrograms(Backend backend) {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2, 3 });
        FloatArray y = FloatArray.fromArray(new float[] { 10, 10, 10 });
        FloatArray snapshot = new FloatArray(3);
        Program doubleIt = new Program("doubleIt").state(x)
                .add(Launch.parallel("scale", (g, id) -> g.task(id, SessionTest::scale, x, 2f), jvm -> scale(x, 2f)));
        Program addY = new Program("addY").state(x).inputs(y).outputs(snapshot)
                .add(Launch.parallel("add", (g, id) -> g.task(id, SessionTest::addInto, x, y), jvm -> addInto(x, y)))
                .add(Launch.parallel("copy", (g, id) -> g.task(id, SessionTest::copy, snapshot, x), jvm -> copy(snapshot, x)));
        try (Session s = backend.open(doubleIt, addY)) {
            s.run(doubleIt); // 2 4 6
            s.run(addY); // 12 14 16
            assertArrayEquals(new float[] { 12, 14, 16 }, snapshot.toHeapArray(), "outputs come back every run");
            s.run(doubleIt); // 24 28 32
            y.init(1);
            s.run(addY); // 25 29 33: the new y went in as an input
            s.read(x);
        }
        assertArrayEquals(new float[] { 25, 29, 33 }, x.toHeapArray());
    }

    /** The JVM backend runs a host action where it stands among the launches; a device's task graph cannot, and refuses it. */
    @ParameterizedTest
    @MethodSource("backends")
    void aHostActionRunsBetweenLaunchesOnTheJvmAndIsRefusedOnADevice(Backend backend) {
        FloatArray x = FloatArray.fromArray(new float[] { 1, 2, 3 });
        float[][] seen = new float[1][];
        Program p = new Program("withHostAction").state(x)
                .add(Launch.parallel("scale", (g, id) -> g.task(id, SessionTest::scale, x, 2f), jvm -> scale(x, 2f)))
                .add(Launch.host("look", () -> seen[0] = x.toHeapArray()))
                .add(Launch.parallel("scaleAgain", (g, id) -> g.task(id, SessionTest::scale, x, 2f), jvm -> scale(x, 2f)));
        if (backend instanceof JvmBackend) {
            try (Session s = backend.open(p)) {
                s.run(p);
            }
            assertArrayEquals(new float[] { 2, 4, 6 }, seen[0]);
            assertArrayEquals(new float[] { 4, 8, 12 }, x.toHeapArray());
        } else {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                try (Session s = backend.open(p)) {
                    s.run(p);
                }
            });
            assertTrue(e.getMessage().startsWith("host action look in a program for a TornadoVM device"), e.getMessage());
        }
    }
}
