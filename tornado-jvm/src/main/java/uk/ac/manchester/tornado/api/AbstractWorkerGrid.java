package uk.ac.manchester.tornado.api;

/** Sizes kept as x, y, z; a grid of fewer dimensions has 1 in the others. */
public abstract class AbstractWorkerGrid implements WorkerGrid {

    private final long[] globalWork;
    private long[] localWork;

    protected AbstractWorkerGrid(long x, long y, long z) {
        globalWork = new long[] { x, y, z };
    }

    @Override
    public long[] getGlobalWork() {
        return globalWork;
    }

    /** The work-group size, or null where none was set. */
    @Override
    public long[] getLocalWork() {
        return localWork;
    }

    @Override
    public void setGlobalWork(long x, long y, long z) {
        globalWork[0] = x;
        globalWork[1] = y;
        globalWork[2] = z;
    }

    @Override
    public void setLocalWork(long x, long y, long z) {
        localWork = new long[] { x, y, z };
    }
}
