package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.Tasks;
import dev.tgpt.engine.check.Checks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * An op given its parameter-side arrays (parameters, their gradients, optimizer moments) as views of a slab must
 * compute what it computes on plain arrays, bit for bit on one backend, and touch nothing else in the slab.
 */
final class SlabRuns {

    /** Builds an op's launches from its parameter-side arrays and its other float arrays. */
    @FunctionalInterface
    interface Op {
        List<Launch> launches(FloatArray[] params, FloatArray[] others);
    }

    private SlabRuns() {
    }

    /**
     * Runs the op on copies of {@code params} and {@code others}: once plain, once with the params as views of one slab
     * between filler views of random values (so a wrong offset reads or writes data that shows). Asserts that no task
     * is given a view, that every array ends with the same bits in both runs, and that the fillers keep their values
     * and the gaps stay zero.
     *
     * @param fixed read-only arrays the op also needs on the device (token ids, positions)
     */
    static void assertSameInSlab(Backend backend, FloatArray[] params, FloatArray[] others, Object[] fixed, Op op) {
        FloatArray[] plainParams = copies(params);
        FloatArray[] plainOthers = copies(others);
        run(backend, op.launches(plainParams, plainOthers), plainParams, plainOthers, fixed);

        // sizes 7, p0, 5, p1, 5, ...: params at the odd views, fillers at the even ones
        int[] sizes = new int[2 * params.length + 1];
        sizes[0] = 7;
        for (int i = 0; i < params.length; i++) {
            sizes[2 * i + 1] = params[i].getSize();
            sizes[2 * i + 2] = 5;
        }
        Slab slab = new Slab(sizes);
        Random r = new Random(99);
        FloatArray[] views = new FloatArray[params.length];
        for (int i = 0; i < slab.size(); i++) {
            FloatArray v = slab.view(i);
            FloatArray values = i % 2 == 1 ? params[i / 2] : Checks.random(r, v.getSize(), 1f);
            MemorySegment.copy(values.getSegment(), 0, v.getSegment(), 0, 4L * v.getSize());
            if (i % 2 == 1) {
                views[i / 2] = v;
            }
        }
        FloatArray[] fillers = new FloatArray[params.length + 1];
        for (int i = 0; i < fillers.length; i++) {
            fillers[i] = copy(slab.view(2 * i));
        }
        FloatArray[] slabOthers = copies(others);
        List<Launch> launches = op.launches(views, slabOthers);
        assertNoViewReachesATask(launches);
        run(backend, launches, new FloatArray[] { slab.base() }, slabOthers, fixed);

        String on = backend.info().id() + ": ";
        for (int i = 0; i < params.length; i++) {
            assertBits(plainParams[i], views[i], on + "param " + i);
        }
        for (int i = 0; i < others.length; i++) {
            assertBits(plainOthers[i], slabOthers[i], on + "array " + i);
        }
        for (int i = 0; i < fillers.length; i++) {
            assertBits(fillers[i], slab.view(2 * i), on + "filler view " + 2 * i);
        }
        boolean[] inView = new boolean[slab.base().getSize()];
        for (int i = 0; i < slab.size(); i++) {
            int off = Slab.offsetOf(slab.view(i));
            Arrays.fill(inView, off, off + slab.view(i).getSize(), true);
        }
        for (int j = 0; j < inView.length; j++) {
            if (!inView[j]) {
                assertEquals(0, Float.floatToRawIntBits(slab.base().get(j)), on + "gap element " + j + " of the slab");
            }
        }
    }

    /** Each launch's task arguments: a view in place of its slab would get a device buffer of its own. */
    private static void assertNoViewReachesATask(List<Launch> launches) {
        for (Launch l : launches) {
            for (Tasks.Call c : Tasks.calls(l, l.name(), new KernelContext())) {
                for (int i = 0; i < c.args().length; i++) {
                    assertFalse(Slab.isView(c.args()[i]), c.id() + ": argument " + i + " is a slab view");
                }
            }
        }
    }

    private static void run(Backend backend, List<Launch> launches, FloatArray[] params, FloatArray[] others, Object[] fixed) {
        List<Object> state = new ArrayList<>(List.of(params));
        state.addAll(List.of(others));
        state.addAll(List.of(fixed));
        List<Object> out = new ArrayList<>(List.of(params));
        out.addAll(List.of(others));
        Checks.run(backend, launches, state.toArray(), out.toArray());
    }

    private static void assertBits(FloatArray want, FloatArray got, String what) {
        assertEquals(want.getSize(), got.getSize(), what + " size");
        for (int i = 0; i < want.getSize(); i++) {
            assertEquals(Float.floatToRawIntBits(want.get(i)), Float.floatToRawIntBits(got.get(i)), what + " element " + i);
        }
    }

    private static FloatArray copy(FloatArray a) {
        return FloatArray.fromArray(a.toHeapArray());
    }

    private static FloatArray[] copies(FloatArray[] arrays) {
        FloatArray[] c = new FloatArray[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            c[i] = copy(arrays[i]);
        }
        return c;
    }
}
