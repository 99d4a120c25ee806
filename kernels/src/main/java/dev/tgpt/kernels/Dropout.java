package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Inverted dropout with a reproducible mask, element-wise over n values.
 *
 * <pre>
 * keep_i = u(seed, stream, i) ≥ p, with u uniform in [0, 1) from a counter-based hash: no mask is stored
 * forward:  y = x·keep/(1 − p)
 * backward: dx += dy·keep/(1 − p)                 (the same mask: same seed, stream and index)
 * </pre>
 *
 * The seed changes every step, so it is read from {@code seed[0]} on the device (a scalar argument would be compiled
 * into the kernel). {@code seed[1]} is the index of element 0 in the whole batch: a data-parallel rank holds rows
 * further on, and draws the masks one process holding every row would draw for them. {@code stream} is a constant per call site (layer and place) so that the masks of different
 * dropouts in one step are independent. p = 0 keeps everything with scale 1: the identity. The JVM backend calls the
 * same per-element helpers.
 */
public final class Dropout {

    private Dropout() {
    }

    public static void dropoutForward(FloatArray out, FloatArray inp, IntArray seed, int stream, float p, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            forwardAt(out, inp, seed, stream, p, i);
        }
    }

    public static void dropoutBackward(FloatArray dinp, FloatArray dout, IntArray seed, int stream, float p, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            backwardAt(dinp, dout, seed, stream, p, i);
        }
    }

    public static void forwardAt(FloatArray out, FloatArray inp, IntArray seed, int stream, float p, int i) {
        out.set(i, inp.get(i) * maskScale(seed.get(0), stream, p, i + seed.get(1)));
    }

    public static void backwardAt(FloatArray dinp, FloatArray dout, IntArray seed, int stream, float p, int i) {
        dinp.set(i, dinp.get(i) + dout.get(i) * maskScale(seed.get(0), stream, p, i + seed.get(1)));
    }

    static float maskScale(int seed, int stream, float p, int i) {
        float scale = 0f;
        if (keeps(seed, stream, p, i)) {
            scale = 1f / (1f - p);
        }
        return scale;
    }

    /** Whether element i is kept: the mask itself, shared by forward, backward and the reference. */
    public static boolean keeps(int seed, int stream, float p, int i) {
        return uniform(seed, stream, i) >= p;
    }

    /** The top 24 bits of the hash as a float in [0, 1), exactly. */
    public static float uniform(int seed, int stream, int i) {
        return shiftRightUnsigned(hash(seed, stream, i), 8) * 0x1p-24f;
    }

    /** Two murmur3 finalizer rounds over the index, keyed by seed and stream (each mixed first). */
    public static int hash(int seed, int stream, int i) {
        int key = mix(seed ^ mix(stream + 0x9E3779B9));
        return mix(mix(i ^ key) + key);
    }

    /** MurmurHash3's 32-bit finalizer: a bijection on int whose every output bit depends on every input bit. */
    static int mix(int h) {
        h ^= shiftRightUnsigned(h, 16);
        h *= 0x85EBCA6B;
        h ^= shiftRightUnsigned(h, 13);
        h *= 0xC2B2AE35;
        h ^= shiftRightUnsigned(h, 16);
        return h;
    }

    /**
     * h >>> k for 0 < k < 32, written as an arithmetic shift that drops the copied sign bits: TornadoVM 5.2 emits
     * Java's int >>> as OpenCL's >> on a signed int, which is arithmetic.
     */
    static int shiftRightUnsigned(int h, int k) {
        return (h >> k) & ((1 << (32 - k)) - 1);
    }
}
