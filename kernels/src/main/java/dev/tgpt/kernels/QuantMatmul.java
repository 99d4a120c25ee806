package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A linear layer's forward with its weight W[OC, C] held in fewer bits, for inference: out[N,OC] = inp[N,C]·Wᵀ + b,
 * each weight widened to float as it is read and the products summed in float. Rows of W go in blocks of
 * {@link #BLOCK} values along C (C must be a multiple of it), packed into ints so that a vector of ints holds runs of
 * consecutive values (the JVM twin, {@link QuantMatmulVector}, then needs no shuffles):
 *
 * <pre>
 * bf16:  16 ints a block; value j of the block: int j % 16, its low half (bits 0-15) for j &lt; 16, its high
 *        half (bits 16-31) for j ≥ 16; a bf16 is a float's top 16 bits, none of them subnormal or not finite
 *        (the packing flushes the first to zero and refuses the others)
 * int8:  8 ints a block and one float scale (GGUF's Q8_0, with a float scale); value j: byte j / 8 of int j % 8,
 *        signed, times the block's scale
 * </pre>
 *
 * The weights of a model are one array (and its scales one more), each matrix at its offset, as parameters are a
 * slab. One work-item per output: a decoding step is a few rows against the whole weight, bound by reading it.
 * TornadoVM 5.2's OpenCL backend cannot reinterpret an int's bits as a float (Float.intBitsToFloat: "unimplemented"),
 * so the kernel builds a bf16 from its fields: sign · (128 + mantissa) · 2^(exponent − 134), the power of two read
 * from a table of 256 ({@link #powers}; 0 for exponent 0), which gives the same float for every normal value.
 */
public final class QuantMatmul {

    /** Values of a row per block. */
    public static final int BLOCK = 32;
    /** Ints per block: bf16 two values an int, int8 four. */
    public static final int BF16_INTS = BLOCK / 2;
    public static final int INT8_INTS = BLOCK / 4;

    private QuantMatmul() {
    }

    /** 2^(e − 134) for e in [1, 255], 0 for e = 0: the factor of a bf16 of exponent field e and mantissa 128 + m. */
    public static float[] powers() {
        float[] p = new float[256];
        for (int e = 1; e < 256; e++) {
            p[e] = (float) Math.scalb(1.0, e - 134);
        }
        return p;
    }

    /** out = inp·Wᵀ (+ bias when hasBias is 1), W as bf16 from w[wOff]; pow2: {@link #powers}. */
    public static void bf16Forward(FloatArray out, FloatArray inp, IntArray w, int wOff, FloatArray pow2, FloatArray bias, int biasOff, int N, int C,
            int OC, int hasBias) {
        for (@Parallel int i = 0; i < N * OC; i++) {
            bf16Output(out, inp, w, wOff, pow2, bias, biasOff, C, OC, hasBias, i);
        }
    }

    public static void bf16Output(FloatArray out, FloatArray inp, IntArray w, int wOff, FloatArray pow2, FloatArray bias, int biasOff, int C,
            int OC, int hasBias, int i) {
        int n = i / OC;
        int o = i % OC;
        float sum = 0f;
        int row = wOff + o * (C / 2);
        for (int blk = 0; blk < C / BLOCK; blk++) {
            int ints = row + blk * BF16_INTS;
            int x = n * C + blk * BLOCK;
            for (int j = 0; j < BF16_INTS; j++) {
                int v = w.get(ints + j);
                sum += bf16(v & 0xFFFF, pow2) * inp.get(x + j) + bf16((v >> 16) & 0xFFFF, pow2) * inp.get(x + BF16_INTS + j);
            }
        }
        out.set(i, hasBias == 1 ? sum + bias.get(biasOff + o) : sum);
    }

    /** The bf16 of bits h (16 bits): sign · (128 + mantissa) · 2^(exponent − 134). */
    static float bf16(int h, FloatArray pow2) {
        float magnitude = ((h & 0x7F) + 128) * pow2.get((h >> 7) & 0xFF);
        return (h >> 15) == 1 ? -magnitude : magnitude;
    }

    /** out = inp·Wᵀ (+ bias when hasBias is 1), W as int8 from q[qOff] with a scale per block from scales[sOff]. */
    public static void int8Forward(FloatArray out, FloatArray inp, IntArray q, int qOff, FloatArray scales, int sOff, FloatArray bias,
            int biasOff, int N, int C, int OC, int hasBias) {
        for (@Parallel int i = 0; i < N * OC; i++) {
            int8Output(out, inp, q, qOff, scales, sOff, bias, biasOff, C, OC, hasBias, i);
        }
    }

    public static void int8Output(FloatArray out, FloatArray inp, IntArray q, int qOff, FloatArray scales, int sOff, FloatArray bias,
            int biasOff, int C, int OC, int hasBias, int i) {
        int n = i / OC;
        int o = i % OC;
        int blocks = C / BLOCK;
        float sum = 0f;
        for (int blk = 0; blk < blocks; blk++) {
            int ints = qOff + (o * blocks + blk) * INT8_INTS;
            int x = n * C + blk * BLOCK;
            float dot = 0f;
            for (int j = 0; j < INT8_INTS; j++) {
                int v = q.get(ints + j);
                dot += ((v << 24) >> 24) * inp.get(x + j) + ((v << 16) >> 24) * inp.get(x + INT8_INTS + j)
                        + ((v << 8) >> 24) * inp.get(x + 2 * INT8_INTS + j) + (v >> 24) * inp.get(x + 3 * INT8_INTS + j);
            }
            sum += dot * scales.get(sOff + o * blocks + blk);
        }
        out.set(i, hasBias == 1 ? sum + bias.get(biasOff + o) : sum);
    }
}
