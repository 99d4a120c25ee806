package uk.ac.manchester.tornado.api.types.arrays;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/** An off-heap int array. */
public final class IntArray extends TornadoNativeArray {

    private static final int INT_BYTES = 4;

    public IntArray(int numberOfElements) {
        super(numberOfElements, INT_BYTES);
    }

    public static IntArray fromArray(int[] values) {
        IntArray array = new IntArray(values.length);
        MemorySegment.copy(values, 0, array.segment, JAVA_INT, 0, values.length);
        return array;
    }

    public int[] toHeapArray() {
        return segment.toArray(JAVA_INT);
    }

    public void set(int index, int value) {
        segment.setAtIndex(JAVA_INT, index, value);
    }

    public int get(int index) {
        return segment.getAtIndex(JAVA_INT, index);
    }

    public void init(int value) {
        for (int i = 0; i < getSize(); i++) {
            set(i, value);
        }
    }

    @Override
    public void clear() {
        segment.fill((byte) 0);
    }

    @Override
    public int getElementSize() {
        return INT_BYTES;
    }
}
