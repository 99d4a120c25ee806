package uk.ac.manchester.tornado.api.common;

/**
 * How a task uses each of its parameters, as TornadoVM's enum: a library task declares one per parameter. TornadoVM
 * merges accesses through {@link #position} (a bit for read, a bit for write).
 */
public enum Access {

    // @formatter:off
    NONE((byte) 0b00),        // Undefined
    READ_ONLY((byte) 0b01),   // Read only
    WRITE_ONLY((byte) 0b10),  // Write only
    READ_WRITE((byte) 0b11);  // Read-write
    // @formatter:on

    public final byte position;

    Access(byte position) {
        this.position = position;
    }

    private static final Access[] accessesArray = Access.values();

    public static Access[] asArray() {
        return accessesArray;
    }
}
