package dev.tgpt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

    /**
     * Host code runs where it stands among the launches. The JVM backend runs it in place; a device ends a task graph
     * there and copies the ranges it declares (here one view of a slab, by the slab's offsets) from the device first:
     * the declared range holds the device's values, the rest of the host copy what it held before.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void hostCodeRunsBetweenLaunchesWithItsDeclaredRangesCopiedOut(Backend backend) {
        Slab slab = new Slab(3, 4);
        slab.view(0).init(1f);
        slab.view(1).init(10f);
        FloatArray x = slab.base();
        long from = Slab.offsetOf(slab.view(1));
        float[][] seen = new float[2][];
        int[] runs = { 0 };
        Program p = new Program("withHostCode").state(x)
                .add(Launch.parallel("scale", (g, id) -> g.task(id, SessionTest::scale, x, 2f), jvm -> scale(x, 2f)))
                .add(Launch.host("look", () -> {
                    seen[0] = slab.view(0).toHeapArray();
                    seen[1] = slab.view(1).toHeapArray();
                    runs[0]++;
                }, x, () -> new long[] { from, from + 4 }))
                .add(Launch.parallel("scaleAgain", (g, id) -> g.task(id, SessionTest::scale, x, 2f), jvm -> scale(x, 2f)));
        try (Session s = backend.open(p)) {
            s.run(p);
            s.read(x);
        }
        assertEquals(1, runs[0]);
        assertArrayEquals(new float[] { 20, 20, 20, 20 }, seen[1], "the declared range, as the first launch left it");
        assertArrayEquals(backend instanceof JvmBackend ? new float[] { 2, 2, 2 } : new float[] { 1, 1, 1 }, seen[0],
                "the rest: on a device not copied out");
        assertArrayEquals(new float[] { 4, 4, 4 }, slab.view(0).toHeapArray());
        assertArrayEquals(new float[] { 40, 40, 40, 40 }, slab.view(1).toHeapArray());
    }
}
