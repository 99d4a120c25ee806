package dev.tgpt.engine;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * Many tensors in one FloatArray, as llm.c keeps its parameters in one block. On the host each tensor is a FloatArray
 * of its own (a view: it shares the slab's memory), so the JVM backend, checkpoints and initialisation use it as any
 * array. On a TornadoVM device only the slab is a buffer: a kernel that may be given a view takes the slab
 * ({@link #baseOf}) and the view's element offset ({@link #offsetOf}) instead.
 *
 * <p>Why: TornadoVM 5.2 holds at most 1,024 nodes in a task graph, and every array a graph hands on to the next costs
 * one. A 12-layer GPT's parameters, gradients and AdamW moments are 592 tensors; as four slabs they are four arrays.
 *
 * <p>Layout: each view starts at a multiple of {@link #ALIGN} floats and has a gap of {@link #ALIGN} floats before it,
 * where its TornadoVM array header lies while the view is made. The gaps are zero afterwards, so a kernel may run
 * over a whole slab or region (zeroing, gradient norms, AdamW) and leave them zero.
 */
public final class Slab {

    /** Views start 64 bytes apart at least and on 64-byte boundaries; the gap holds a header (16 or 24 bytes). */
    public static final int ALIGN = 16;

    private record Place(FloatArray base, int offset) {
    }

    /** Every view and region made, to its slab and offset; weak, so a dropped slab goes with its views. */
    private static final Map<FloatArray, Place> PLACES = Collections.synchronizedMap(new WeakHashMap<>());

    private final FloatArray base;
    private final int[] offsets;
    private final int[] sizes;
    private final FloatArray[] views;

    /** A slab of views of these sizes, in this order. */
    public Slab(int... sizes) {
        this.sizes = sizes.clone();
        this.offsets = new int[sizes.length];
        base = new FloatArray(Math.toIntExact(layout(sizes, offsets)));
        base.clear();
        views = new FloatArray[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            views[i] = view(offsets[i], sizes[i]);
        }
    }

    /** The floats a slab of views of these sizes holds, gaps included (what a memory plan counts). */
    public static long floats(int... sizes) {
        return layout(sizes, new int[sizes.length]);
    }

    /** Each view's offset into offsets; returns the slab's length. */
    private static long layout(int[] sizes, int[] offsets) {
        long end = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 0) {
                throw new IllegalArgumentException("negative size " + sizes[i]);
            }
            offsets[i] = Math.toIntExact(end + ALIGN);
            end = (offsets[i] + (long) sizes[i] + ALIGN - 1) / ALIGN * ALIGN;
        }
        return end;
    }

    /** The one array that holds every view: the device buffer. */
    public FloatArray base() {
        return base;
    }

    public FloatArray view(int i) {
        return views[i];
    }

    public int size() {
        return views.length;
    }

    /** One view over views {@code from} to {@code to - 1} and the gaps between them (zero). */
    public FloatArray region(int from, int to) {
        if (from >= to) {
            throw new IllegalArgumentException("empty region " + from + ".." + to);
        }
        return view(offsets[from], offsets[to - 1] + sizes[to - 1] - offsets[from]);
    }

    /**
     * A view of n elements of {@code base} from element {@code offset} (at least {@link #ALIGN}), anywhere: the bytes
     * its header takes while it is made are put back (ZeRO's shards of a slab start where they start).
     */
    public static FloatArray slice(FloatArray base, int offset, int n) {
        if (offset < ALIGN || offset + (long) n > base.getSize() || n < 0) {
            throw new IllegalArgumentException("slice " + offset + "+" + n + " of " + base.getSize() + " elements");
        }
        long header = TornadoNativeArray.ARRAY_HEADER;
        MemorySegment before = base.getSegment().asSlice(offset * 4L - header, header);
        byte[] kept = before.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        FloatArray v = FloatArray.fromSegmentShallow(base.getSegment().asSlice(offset * 4L - header, header + n * 4L));
        MemorySegment.copy(kept, 0, before, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, kept.length);
        PLACES.put(v, new Place(base, offset));
        return v;
    }

    private FloatArray view(int offset, int n) {
        long header = TornadoNativeArray.ARRAY_HEADER;
        MemorySegment memory = base.getSegment().asSlice(offset * 4L - header, header + n * 4L);
        FloatArray v = FloatArray.fromSegmentShallow(memory);
        // the header fromSegmentShallow wrote: nothing on the host reads it, and the gaps must stay zero
        memory.asSlice(0, header).fill((byte) 0);
        PLACES.put(v, new Place(base, offset));
        return v;
    }

    /** The device buffer an array lives in: its slab, or the array itself. */
    public static FloatArray baseOf(FloatArray a) {
        Place p = PLACES.get(a);
        return p == null ? a : p.base;
    }

    /** Where an array starts in {@link #baseOf}: its offset in its slab, or 0. */
    public static int offsetOf(FloatArray a) {
        Place p = PLACES.get(a);
        return p == null ? 0 : p.offset;
    }

    /** Whether this is a view of a slab (which must never reach a TornadoVM task as an array of its own). */
    public static boolean isView(Object o) {
        return o instanceof FloatArray a && PLACES.containsKey(a);
    }

    /** The device buffer of any array or object: {@link #baseOf} for a FloatArray, else the object. */
    public static Object device(Object o) {
        return o instanceof FloatArray a ? baseOf(a) : o;
    }
}
