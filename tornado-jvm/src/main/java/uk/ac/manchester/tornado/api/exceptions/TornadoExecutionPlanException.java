package uk.ac.manchester.tornado.api.exceptions;

/** Thrown when an execution plan cannot release its resources. */
public class TornadoExecutionPlanException extends Exception {

    public TornadoExecutionPlanException(String message) {
        super(message);
    }
}
