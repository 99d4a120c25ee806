package uk.ac.manchester.tornado.tgpttest;

/** A stand-in for TornadoVM's exception of this name. */
public class TornadoOutOfMemoryException extends RuntimeException {

    public TornadoOutOfMemoryException(String message) {
        super(message);
    }
}
