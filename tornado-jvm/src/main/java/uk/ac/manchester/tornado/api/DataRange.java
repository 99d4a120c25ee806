package uk.ac.manchester.tornado.api;

import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/** TornadoVM's partial copy of an array from the device: elements [offset, offset + size), as TornadoVM's DataRange. */
public class DataRange {

    private final TornadoNativeArray array;
    private long offset;
    private long size;

    public DataRange(TornadoNativeArray array) {
        this.array = array;
    }

    public DataRange withOffset(long offset) {
        this.offset = offset;
        return this;
    }

    /** Elements to copy; 0 (TornadoVM's default) copies from the offset to the end. */
    public DataRange withSize(long size) {
        this.size = size;
        return this;
    }

    public TornadoNativeArray getArray() {
        return array;
    }

    public long offset() {
        return offset;
    }

    public long size() {
        return size;
    }
}
