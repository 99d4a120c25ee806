package uk.ac.manchester.tornado.api.exceptions;

/**
 * An internal limit or failure of TornadoVM. As in TornadoVM it is an {@link Error}, not a RuntimeException: code
 * that catches {@code RuntimeException} (or {@link TornadoRuntimeException}) does not catch it, and the message
 * is formatted as TornadoVM formats it, e.g. {@code unimplemented: Tornado Graph resize not implemented yet.}
 */
public class TornadoInternalError extends Error {

    private static final long serialVersionUID = 1L;

    public TornadoInternalError(String msg, Object... args) {
        super(String.format(msg, args));
    }

    public TornadoInternalError(Throwable cause) {
        super(cause);
    }

    /** Throws {@code unimplemented: msg}; declared to return so that callers can write {@code throw unimplemented(..)}. */
    public static RuntimeException unimplemented(String msg) {
        throw new TornadoInternalError("unimplemented: %s", msg);
    }

    public static RuntimeException shouldNotReachHere(String msg) {
        throw new TornadoInternalError("should not reach here: %s", msg);
    }
}
