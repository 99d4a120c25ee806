package dev.tgpt.engine;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Programs opened together on one backend, sharing their state (weights, gradients, optimizer moments) on the
 * device: a training step, an update, an evaluation and a sampling step run one after another on the same buffers,
 * and nothing crosses to the host but each program's inputs and outputs, or what {@link #read} asks for.
 */
public interface Session extends AutoCloseable {

    /** Runs one of the session's programs once. */
    void run(Program program);

    /** Copies state arrays from the device to their host copies (for a checkpoint, say). */
    void read(Object... arrays);

    /** Copies elements [from, to) of a state array (of its slab, for a view: the slab's offsets) from the device. */
    void read(FloatArray array, long from, long to);

    /** Times of the last run, where the backend measures them. */
    Profile profile();

    @Override
    void close();

    /** Nanoseconds: TornadoVM's JIT and driver compile, kernels on the device, copies; -1 where not measured. */
    record Profile(long totalNanos, long compileNanos, long kernelNanos, long transferNanos) {
        public static final Profile NONE = new Profile(-1, -1, -1, -1);
    }
}
