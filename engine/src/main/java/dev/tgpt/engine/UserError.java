package dev.tgpt.engine;

/**
 * A mistake in what the user asked for or gave (a bad option, file or setup): the launcher prints its message
 * on one line, without a stack trace.
 */
public class UserError extends RuntimeException {

    public UserError(String message) {
        super(message, null, false, false);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
