package uk.ac.manchester.tornado.api.exceptions;

/** Thrown when a task graph cannot be built or run. */
public class TornadoRuntimeException extends RuntimeException {

    public TornadoRuntimeException(final String msg) {
        super(msg);
    }

    public TornadoRuntimeException(Exception e) {
        super(e);
    }
}
