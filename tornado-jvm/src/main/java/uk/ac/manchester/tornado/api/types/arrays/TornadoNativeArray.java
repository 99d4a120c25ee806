package uk.ac.manchester.tornado.api.types.arrays;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An off-heap array, as in TornadoVM: zero-filled at construction, elements addressed by int index. Here it is
 * one {@link MemorySegment} without TornadoVM's object header, since nothing but this JVM reads it.
 */
public abstract sealed class TornadoNativeArray permits FloatArray, IntArray {

    final MemorySegment segment;
    private final int numberOfElements;

    TornadoNativeArray(int numberOfElements, int elementBytes) {
        if (numberOfElements < 0) {
            throw new IllegalArgumentException("negative array size: " + numberOfElements);
        }
        this.numberOfElements = numberOfElements;
        // Aligned like a device buffer, so Vector API loads on the JVM backend never straddle a cache line needlessly.
        this.segment = Arena.ofAuto().allocate((long) numberOfElements * elementBytes, 64);
    }

    public int getSize() {
        return numberOfElements;
    }

    /** The elements, without any header. */
    public MemorySegment getSegment() {
        return segment;
    }

    public long getNumBytesOfSegment() {
        return segment.byteSize();
    }

    public abstract int getElementSize();

    public abstract void clear();
}
