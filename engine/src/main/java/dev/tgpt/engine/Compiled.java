package dev.tgpt.engine;

/** A program compiled for one backend. */
public interface Compiled extends AutoCloseable {

    /** Runs every launch once: inputs in, outputs out, nothing else crosses to the host. */
    void run();

    /** Copies arrays the program keeps on the device back to their host copies. */
    void read(Object... arrays);

    /** Times of the last run, where the backend measures them. */
    Profile profile();

    @Override
    void close();

    /** Nanoseconds: TornadoVM's JIT and driver compile, kernels on the device, copies; -1 where not measured. */
    record Profile(long totalNanos, long compileNanos, long kernelNanos, long transferNanos) {
        public static final Profile NONE = new Profile(-1, -1, -1, -1);
    }
}
