package uk.ac.manchester.tornado.tgpttest;

/** A stand-in for TornadoVM's exception of this name. */
public class TornadoMemoryException extends RuntimeException {

    public TornadoMemoryException(String message) {
        super(message);
    }
}
