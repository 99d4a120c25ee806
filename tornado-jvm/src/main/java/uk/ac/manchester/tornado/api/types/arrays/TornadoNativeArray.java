package uk.ac.manchester.tornado.api.types.arrays;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An off-heap array, as in TornadoVM: zero-filled at construction, elements addressed by int index, laid out as
 * TornadoVM lays it out: a header of {@link #ARRAY_HEADER} bytes (the element count), then the elements. The header
 * matters for {@code fromSegmentShallow}, which wraps existing memory and writes a header into its first bytes.
 */
public abstract sealed class TornadoNativeArray permits FloatArray, IntArray {

    /** TornadoVM's header size with compressed oops (its default). */
    public static final long ARRAY_HEADER = 16;

    final MemorySegment withHeader;
    final MemorySegment segment;
    private final int numberOfElements;

    TornadoNativeArray(int numberOfElements, int elementBytes) {
        if (numberOfElements < 0) {
            throw new IllegalArgumentException("negative array size: " + numberOfElements);
        }
        this.numberOfElements = numberOfElements;
        // Elements aligned like a device buffer, so Vector API loads on the JVM backend never straddle a cache line
        // needlessly: the header sits in the 64 bytes before them.
        MemorySegment block = Arena.ofAuto().allocate(64 + (long) numberOfElements * elementBytes, 64);
        this.withHeader = block.asSlice(64 - ARRAY_HEADER);
        this.segment = withHeader.asSlice(ARRAY_HEADER);
        withHeader.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, numberOfElements);
    }

    /** Over existing memory (a header, then the elements), as TornadoVM's fromSegmentShallow: no copy. */
    TornadoNativeArray(MemorySegment withHeader, int elementBytes) {
        long data = withHeader.byteSize() - ARRAY_HEADER;
        if (data < 0 || data % elementBytes != 0) {
            throw new IllegalArgumentException("The byte size (" + data + ") is not a multiple of the element size (" + elementBytes + ")");
        }
        this.numberOfElements = (int) (data / elementBytes);
        this.withHeader = withHeader;
        this.segment = withHeader.asSlice(ARRAY_HEADER);
        withHeader.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, numberOfElements);
    }

    public int getSize() {
        return numberOfElements;
    }

    /** The elements, without any header. */
    public MemorySegment getSegment() {
        return segment;
    }

    /** The header, then the elements. */
    public MemorySegment getSegmentWithHeader() {
        return withHeader;
    }

    public long getNumBytesOfSegment() {
        return segment.byteSize();
    }

    public abstract int getElementSize();

    public abstract void clear();
}
