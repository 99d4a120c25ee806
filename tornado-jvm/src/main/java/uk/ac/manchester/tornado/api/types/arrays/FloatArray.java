package uk.ac.manchester.tornado.api.types.arrays;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** An off-heap float array. */
public final class FloatArray extends TornadoNativeArray {

    private static final int FLOAT_BYTES = 4;

    public FloatArray(int numberOfElements) {
        super(numberOfElements, FLOAT_BYTES);
    }

    public static FloatArray fromArray(float[] values) {
        FloatArray array = new FloatArray(values.length);
        MemorySegment.copy(values, 0, array.segment, JAVA_FLOAT, 0, values.length);
        return array;
    }

    private FloatArray(MemorySegment withHeader) {
        super(withHeader, FLOAT_BYTES);
    }

    /** An array over existing memory (a header, then the elements), without a copy; writes the header. */
    public static FloatArray fromSegmentShallow(MemorySegment withHeader) {
        return new FloatArray(withHeader);
    }

    public static FloatArray fromSegment(MemorySegment segment) {
        if (segment.byteSize() % FLOAT_BYTES != 0) {
            throw new IllegalArgumentException("The byte size (" + segment.byteSize() + ") is not a multiple of " + FLOAT_BYTES);
        }
        FloatArray array = new FloatArray((int) (segment.byteSize() / FLOAT_BYTES));
        array.segment.copyFrom(segment);
        return array;
    }

    public float[] toHeapArray() {
        return segment.toArray(JAVA_FLOAT);
    }

    public void set(int index, float value) {
        segment.setAtIndex(JAVA_FLOAT, index, value);
    }

    public float get(int index) {
        return segment.getAtIndex(JAVA_FLOAT, index);
    }

    public void init(float value) {
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
        return FLOAT_BYTES;
    }
}
