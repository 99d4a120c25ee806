package uk.ac.manchester.tornado.api.enums;

/** When a task graph copies data between host and device. */
public class DataTransferMode {

    /** Copy on the first execution of the graph only. */
    public static final int FIRST_EXECUTION = 0;

    /** Copy on every execution. */
    public static final int EVERY_EXECUTION = 1;

    /** Copy to the host only when {@code TornadoExecutionResult.transferToHost} asks for it. */
    public static final int UNDER_DEMAND = 2;

    private DataTransferMode() {
    }
}
