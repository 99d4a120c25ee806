package dev.tgpt.gpt.data;

import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Random training windows: each batch is B windows of T+1 consecutive tokens at random offsets (inputs the first T,
 * targets the last T). The random generator is splitmix64, whose whole state is one long, so a checkpoint can store
 * {@link #state()} and a resumed run draws exactly the batches the interrupted one would have.
 */
public final class Batches {

    private final int[] tokens;
    private final int batch;
    private final int context;
    private long state;
    private int rank;
    private int ranks = 1;

    public Batches(int[] tokens, int batch, int context, long seed) {
        if (batch < 1 || context < 1) {
            throw new UserError("batch size (" + batch + ") and context (" + context + ") must be positive");
        }
        if (tokens.length < context + 1) {
            throw new UserError(tokens.length + " tokens are too few for a window of context + 1 = " + (context + 1)
                    + " tokens: use more data or a shorter context");
        }
        this.tokens = tokens;
        this.batch = batch;
        this.context = context;
        this.state = seed;
    }

    /**
     * This rank's part of batches of ranks·B windows: every rank draws the whole batch's offsets and takes windows
     * rank·B to rank·B + B − 1, so N ranks at batch B train on what one process at batch N·B would.
     */
    public Batches shard(int rank, int ranks) {
        this.rank = rank;
        this.ranks = ranks;
        return this;
    }

    /** Fills inputs[B·T] and targets[B·T] (row b is window b). */
    public void next(IntArray inputs, IntArray targets) {
        int n = batch * context;
        if (inputs.getSize() != n || targets.getSize() != n) {
            throw new IllegalArgumentException("inputs and targets must hold B·T = " + n + " tokens, not " + inputs.getSize() + " and "
                    + targets.getSize());
        }
        long starts = tokens.length - context;
        for (int w = 0; w < ranks * batch; w++) {
            // The modulo's bias is starts / 2^64: far below anything a training run could notice.
            int start = (int) Long.remainderUnsigned(nextLong(), starts);
            int b = w - rank * batch;
            if (b < 0 || b >= batch) {
                continue;
            }
            for (int t = 0; t < context; t++) {
                inputs.set(b * context + t, tokens[start + t]);
                targets.set(b * context + t, tokens[start + t + 1]);
            }
        }
    }

    public long state() {
        return state;
    }

    public void restore(long state) {
        this.state = state;
    }

    /** splitmix64 (Steele, Lea and Flood 2014). */
    private long nextLong() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
