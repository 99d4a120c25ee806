package uk.ac.manchester.tornado.api;

/** The global and local (work-group) sizes a KernelContext task runs with. */
public interface WorkerGrid {

    int dimension();

    long[] getGlobalWork();

    long[] getLocalWork();

    void setGlobalWork(long x, long y, long z);

    void setLocalWork(long x, long y, long z);
}
