package uk.ac.manchester.tornado.runtime.library.spi;

import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;

/**
 * One library-task call with its arguments resolved: a reference argument (an off-heap array) carries the address of
 * its device buffer's first element (past the array header), a primitive argument its boxed value.
 */
public final class LibraryInvocation {

    private final Object[] javaArgs;
    private final long[] devicePointers;
    private final boolean[] isReference;
    private final TornadoXPUDevice device;
    private final long executionPlanId;
    private final LibraryContext context;
    private final Object tuning;

    public LibraryInvocation(Object[] javaArgs, long[] devicePointers, boolean[] isReference, TornadoXPUDevice device, long executionPlanId,
            LibraryContext context, Object tuning) {
        this.javaArgs = javaArgs;
        this.devicePointers = devicePointers;
        this.isReference = isReference;
        this.device = device;
        this.executionPlanId = executionPlanId;
        this.context = context;
        this.tuning = tuning;
    }

    public int getNumArgs() {
        return javaArgs.length;
    }

    /** The Java argument: a boxed primitive, or the host-side array of a reference argument. */
    public Object getArg(int index) {
        return javaArgs[index];
    }

    /** The address of a reference argument's first element in its device buffer (past the array header). */
    public long getDevicePointer(int index) {
        return devicePointers[index];
    }

    public boolean isReference(int index) {
        return isReference[index];
    }

    public TornadoXPUDevice getDevice() {
        return device;
    }

    public long getExecutionPlanId() {
        return executionPlanId;
    }

    public LibraryContext getContext() {
        return context;
    }

    /** The descriptor's tuning options ({@code LibraryTaskDescriptor.withTuning}), or null. */
    public Object getTuning() {
        return tuning;
    }
}
