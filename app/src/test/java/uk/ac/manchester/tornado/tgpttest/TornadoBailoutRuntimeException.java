package uk.ac.manchester.tornado.tgpttest;

/** A stand-in for TornadoVM's exception of this name. */
public class TornadoBailoutRuntimeException extends RuntimeException {

    public TornadoBailoutRuntimeException(String message) {
        super(message);
    }
}
