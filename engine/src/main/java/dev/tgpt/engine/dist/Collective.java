package dev.tgpt.engine.dist;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The ranks of a data-parallel run and what they do together: one process per device, each with its rank and the
 * run's size. {@link #single()} is a run of one process (no MPI needed, every call a no-op); {@link Mpi} is Open MPI's
 * C library through the FFM API. Float ranges are given as (array, first element, count); arrays may be slab views.
 *
 * <p>Every call blocks until all ranks have made it. A rank that never arrives (dead or hung) must not hang the others:
 * an implementation ends the whole run with a one-line error after a time limit ({@link Mpi}: TGPT_RANK_TIMEOUT).
 */
public interface Collective extends AutoCloseable {

    int rank();

    int size();

    /** Sums {@code a[from..from+count)} over the ranks, in place on every rank. */
    void allReduceSum(FloatArray a, long from, long count);

    /** Sums these values over the ranks, in place on every rank. */
    void allReduceSum(double[] values);

    /** Copies rank {@code root}'s {@code a[from..from+count)} to every rank. */
    void broadcast(FloatArray a, long from, long count, int root);

    /** Copies rank {@code root}'s bytes to every rank (the same length everywhere). */
    void broadcast(byte[] bytes, int root);

    /**
     * Reduce-scatter over shards: {@code starts} has size()+1 ascending element offsets into a; afterwards rank r's
     * shard {@code a[starts[r]..starts[r+1])} holds the sum over the ranks of that range; the rest of a is undefined.
     */
    void reduceScatterSum(FloatArray a, long[] starts);

    /** All-gather over shards: afterwards every rank holds every rank r's {@code a[starts[r]..starts[r+1])}. */
    void allGather(FloatArray a, long[] starts);

    /**
     * Sums the [from, to) ranges of a (pairs in {@code ranges}) over the ranks; with ZeRO-1's {@code shards} (null:
     * all-reduced) each shard's part of a range goes to its rank alone, and a shard outside the range gets nothing.
     */
    default void sumRanges(FloatArray a, long[] ranges, long[] shards) {
        for (int i = 0; i < ranges.length; i += 2) {
            long from = ranges[i], to = ranges[i + 1];
            if (shards == null) {
                allReduceSum(a, from, to - from);
            } else {
                long[] part = new long[shards.length];
                for (int r = 0; r < part.length; r++) {
                    part[r] = Math.clamp(shards[r], from, to);
                }
                reduceScatterSum(a, part);
            }
        }
    }

    /**
     * Whether calls may come from another thread than the one that started it, one call at a time (MPI: at least
     * MPI_THREAD_SERIALIZED): a trainer then exchanges gradients on a thread of its own, beside the backward pass.
     */
    default boolean callableFromAnyThread() {
        return true;
    }

    @Override
    void close();

    /** Shards n elements from {@code offset} into size() nearly equal contiguous ranges (the first ones one longer). */
    default long[] shards(long offset, long n) {
        long[] starts = new long[size() + 1];
        for (int r = 0; r <= size(); r++) {
            starts[r] = offset + n / size() * r + Math.min(r, n % size());
        }
        return starts;
    }

    /** How many ranks hold other bytes than rank 0's (the same length on every rank); every rank learns it. */
    default int differingFromRankZero(byte[] mine) {
        byte[] reference = mine.clone();
        broadcast(reference, 0);
        double[] differ = { java.util.Arrays.equals(mine, reference) ? 0 : 1 };
        allReduceSum(differ);
        return (int) differ[0];
    }

    /** Every rank's {@code mine}, in rank order; every rank learns them (for start-up reports: a broadcast per rank). */
    default List<String> everyRank(String mine) {
        byte[] bytes = mine.getBytes(StandardCharsets.UTF_8);
        double[] lengths = new double[size()];
        lengths[rank()] = bytes.length;
        allReduceSum(lengths);
        List<String> all = new ArrayList<>();
        for (int r = 0; r < size(); r++) {
            byte[] b = r == rank() ? bytes : new byte[(int) lengths[r]];
            broadcast(b, r);
            all.add(new String(b, StandardCharsets.UTF_8));
        }
        return all;
    }

    /** One process: nothing to exchange. */
    static Collective single() {
        return Single.INSTANCE;
    }

    /** A run of one process. */
    final class Single implements Collective {
        static final Single INSTANCE = new Single();

        private Single() {
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public void allReduceSum(FloatArray a, long from, long count) {
        }

        @Override
        public void allReduceSum(double[] values) {
        }

        @Override
        public void broadcast(FloatArray a, long from, long count, int root) {
        }

        @Override
        public void broadcast(byte[] bytes, int root) {
        }

        @Override
        public void reduceScatterSum(FloatArray a, long[] starts) {
        }

        @Override
        public void allGather(FloatArray a, long[] starts) {
        }

        @Override
        public void close() {
        }
    }
}
