package dev.tgpt.tornadojvm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;

/**
 * One work-group while it runs: its barrier and its local memory. Every work-item must reach every barrier; one
 * that returns while others wait at a barrier is barrier divergence, which hangs or corrupts on a GPU, so here it
 * fails the task.
 */
final class WorkGroup {

    /** The most local memory a work-group may use: CUDA's static shared-memory limit, the tightest of our targets. */
    static final int LOCAL_MEMORY_BYTES = 48 * 1024;

    private final int size;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private int waiting;
    private int finished;
    private long generation;
    private String broken;
    private final List<Object> locals = new ArrayList<>();
    private int localBytes;

    WorkGroup(int size) {
        this.size = size;
    }

    void barrier() {
        lock.lock();
        try {
            if (broken != null) {
                throw new GroupFailed();
            }
            if (finished > 0) {
                fail("barrier divergence: a work-item reached a barrier after another had returned");
                throw new GroupFailed();
            }
            if (++waiting == size) {
                waiting = 0;
                generation++;
                released.signalAll();
                return;
            }
            long arrived = generation;
            while (arrived == generation && broken == null) {
                released.awaitUninterruptibly();
            }
            if (broken != null) {
                throw new GroupFailed();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A work-item returned from the kernel. */
    void finish() {
        lock.lock();
        try {
            finished++;
            if (waiting > 0 && broken == null) {
                fail("barrier divergence: a work-item returned while others wait at a barrier");
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops the group: work-items waiting at a barrier, or reaching one later, give up. */
    void fail(String reason) {
        lock.lock();
        try {
            if (broken == null) {
                broken = reason;
            }
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Why the group failed, or null. */
    String failure() {
        lock.lock();
        try {
            return broken;
        } finally {
            lock.unlock();
        }
    }

    /** The index-th local array of the group, made by whichever work-item asks first. */
    @SuppressWarnings("unchecked")
    <A> A local(int index, int length, int elementBytes, IntFunction<A> make, Class<A> type) {
        lock.lock();
        try {
            if (index == locals.size()) {
                localBytes += length * elementBytes;
                if (localBytes > LOCAL_MEMORY_BYTES) {
                    throw new IllegalStateException("kernel allocates " + localBytes + " bytes of local memory; the limit is "
                            + LOCAL_MEMORY_BYTES);
                }
                locals.add(make.apply(length));
            }
            Object array = locals.get(index);
            if (!type.isInstance(array) || java.lang.reflect.Array.getLength(array) != length) {
                throw new IllegalStateException("work-items of one group allocated different local arrays at allocation #" + index);
            }
            return (A) array;
        } finally {
            lock.unlock();
        }
    }

    /** Thrown in a work-item to unwind it when its group has failed. */
    static final class GroupFailed extends RuntimeException {
        GroupFailed() {
            super(null, null, false, false);
        }
    }
}
