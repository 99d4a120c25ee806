package dev.tgpt.tornadojvm;

import uk.ac.manchester.tornado.api.KernelContext;

/** The KernelContext of one work-item: its ids, and its group's barrier and local memory. */
final class WorkItemContext extends KernelContext {

    private final WorkGroup group;
    private int allocations;

    WorkItemContext(WorkGroup group, int[] globalId, int[] localId, int[] globalSize, int[] localSize) {
        super(globalId, localId, globalSize, localSize);
        this.group = group;
    }

    @Override
    public void localBarrier() {
        group.barrier();
    }

    @Override
    public void globalBarrier() {
        group.barrier();
    }

    @Override
    public float[] allocateFloatLocalArray(int size) {
        return group.local(allocations++, size, Float.BYTES, float[]::new, float[].class);
    }

    @Override
    public int[] allocateIntLocalArray(int size) {
        return group.local(allocations++, size, Integer.BYTES, int[]::new, int[].class);
    }
}
