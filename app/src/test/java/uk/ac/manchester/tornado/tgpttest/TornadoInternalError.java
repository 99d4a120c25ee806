package uk.ac.manchester.tornado.tgpttest;

/** A stand-in for TornadoVM's TornadoInternalError, an Error rather than an exception. */
public class TornadoInternalError extends Error {

    public TornadoInternalError(String message) {
        super(message);
    }
}
