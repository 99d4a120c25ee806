package uk.ac.manchester.tornado.api;

/**
 * A kernel's view of its work-item: global, local and group ids, work-group sizes, local memory and barriers.
 *
 * <p>As in TornadoVM, an instance made with {@code new KernelContext()} has every id at 0, no-op barriers and
 * fresh arrays as local memory. When a task graph runs a kernel on the JVM, each work-item instead gets its own
 * context, made through the protected constructor, whose barriers and local arrays are its work-group's.
 */
public class KernelContext {

    public final Integer globalIdx;
    public final Integer globalIdy;
    public final Integer globalIdz;
    public final Integer groupIdx;
    public final Integer groupIdy;
    public final Integer groupIdz;
    public final Integer localIdx;
    public final Integer localIdy;
    public final Integer localIdz;
    public final Integer globalGroupSizeX;
    public final Integer globalGroupSizeY;
    public final Integer globalGroupSizeZ;
    public final Integer localGroupSizeX;
    public final Integer localGroupSizeY;
    public final Integer localGroupSizeZ;

    public KernelContext() {
        this(new int[3], new int[3], new int[3], new int[3]);
    }

    /** Ids of one work-item: each array holds x, y and z. */
    protected KernelContext(int[] globalId, int[] localId, int[] globalSize, int[] localSize) {
        globalIdx = globalId[0];
        globalIdy = globalId[1];
        globalIdz = globalId[2];
        localIdx = localId[0];
        localIdy = localId[1];
        localIdz = localId[2];
        groupIdx = localSize[0] == 0 ? 0 : globalId[0] / localSize[0];
        groupIdy = localSize[1] == 0 ? 0 : globalId[1] / localSize[1];
        groupIdz = localSize[2] == 0 ? 0 : globalId[2] / localSize[2];
        globalGroupSizeX = globalSize[0];
        globalGroupSizeY = globalSize[1];
        globalGroupSizeZ = globalSize[2];
        localGroupSizeX = localSize[0];
        localGroupSizeY = localSize[1];
        localGroupSizeZ = localSize[2];
    }

    /** Waits until every work-item of the work-group has reached this barrier; local memory is then consistent. */
    public void localBarrier() {
    }

    /** As {@link #localBarrier()}, for global memory written by the work-group. */
    public void globalBarrier() {
    }

    /** An array in local memory, shared by the work-group. */
    public float[] allocateFloatLocalArray(int size) {
        return new float[size];
    }

    /** An array in local memory, shared by the work-group. */
    public int[] allocateIntLocalArray(int size) {
        return new int[size];
    }
}
