package dev.tgpt.engine.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.UserError;
import dev.tgpt.kernels.QuantMatmul;
import dev.tgpt.kernels.QuantMatmulVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Weights packed into fewer bits for inference, and launches of {@link QuantMatmul} over them. Packing rounds bf16
 * to nearest, ties to even (as PyTorch's .to(torch.bfloat16)); int8 as GGUF's Q8_0 (a block's scale is its largest
 * magnitude over 127, each value rounded to the nearest multiple of it), with the scale kept as a float.
 */
public final class QuantMatmulOps {

    /** How a model's matmul weights are held: as trained, or packed by {@link #pack}. */
    public enum Format {
        FP32(32), BF16(16), INT8(8);

        /** Bits a weight, scales left out. */
        public final int bits;

        Format(int bits) {
            this.bits = bits;
        }

        /** fp32, bf16 or int8, as a user writes it. */
        public static Format parse(String s) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(s)) {
                    return f;
                }
            }
            throw new UserError("unknown weight format '" + s + "': use fp32, bf16 or int8");
        }

        /** Bytes of a packed [rows, cols] matrix, its scales included. */
        public long bytes(long rows, long cols) {
            return switch (this) {
                case FP32 -> 4 * rows * cols;
                case BF16 -> 2 * rows * cols;
                case INT8 -> rows * cols + 4 * rows * cols / QuantMatmul.BLOCK;
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * A weight [OC, C] packed at {@code offset} ints into {@code data}; int8: its scales at {@code scaleOffset} of
     * {@code scales}; bf16: {@code scales} is {@link QuantMatmul#powers}'s table.
     */
    public record Matrix(Format format, IntArray data, int offset, FloatArray scales, int scaleOffset, int OC, int C) {
    }

    private QuantMatmulOps() {
    }

    /**
     * Packs each weight (OC[i] × C[i], rows along C) into one int array (and one of scales), in order. C must be a
     * multiple of {@link QuantMatmul#BLOCK}.
     */
    public static List<Matrix> pack(Format format, List<FloatArray> weights, int[] OC, int[] C) {
        if (format == Format.FP32) {
            throw new IllegalArgumentException("fp32 weights are used as they are");
        }
        long ints = 0;
        long scales = 0;
        for (int i = 0; i < weights.size(); i++) {
            requireWholeBlocks(format, C[i]);
            ints += (long) OC[i] * C[i] / (format == Format.BF16 ? 2 : 4);
            scales += (long) OC[i] * C[i] / QuantMatmul.BLOCK;
        }
        if (ints > Integer.MAX_VALUE || scales > Integer.MAX_VALUE) {
            throw new UserError("the packed weights take " + ints + " ints, over the " + Integer.MAX_VALUE + " an array holds");
        }
        IntArray data = new IntArray((int) ints);
        FloatArray s = format == Format.INT8 ? new FloatArray((int) scales) : FloatArray.fromArray(QuantMatmul.powers());
        List<Matrix> out = new ArrayList<>();
        int at = 0;
        int sAt = 0;
        for (int i = 0; i < weights.size(); i++) {
            Matrix m = new Matrix(format, data, at, s, sAt, OC[i], C[i]);
            if (format == Format.BF16) {
                packBf16(weights.get(i), m);
                at += OC[i] * C[i] / 2;
            } else {
                packInt8(weights.get(i), m);
                at += OC[i] * C[i] / 4;
                sAt += OC[i] * C[i] / QuantMatmul.BLOCK;
            }
            out.add(m);
        }
        return out;
    }

    /** Refuses, as the user's mistake, packing rows of C values that are not whole blocks (fp32 takes any). */
    public static void requireWholeBlocks(Format format, long C) {
        if (format != Format.FP32 && C % QuantMatmul.BLOCK != 0) {
            throw new UserError(format + " weights need rows of a multiple of " + QuantMatmul.BLOCK + " values; this model has rows of " + C
                    + ": use fp32");
        }
    }

    /** A float's nearest bf16 (ties to even) as the float's top 16 bits, a subnormal one flushed to (signed) zero. */
    static int bf16(float x) {
        if (!Float.isFinite(x)) {
            throw new UserError("a weight is " + x + ": this model cannot be packed (nor used)");
        }
        int bits = Float.floatToRawIntBits(x);
        int h = (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
        if ((h & 0x7F80) == 0x7F80) {
            throw new UserError("a weight is " + x + ", beyond bf16's range: this model cannot be packed as bf16");
        }
        return (h & 0x7F80) == 0 ? h & 0x8000 : h;
    }

    private static void packBf16(FloatArray w, Matrix m) {
        int half = QuantMatmul.BF16_INTS;
        for (int o = 0; o < m.OC(); o++) {
            for (int blk = 0; blk < m.C() / QuantMatmul.BLOCK; blk++) {
                int src = o * m.C() + blk * QuantMatmul.BLOCK;
                int dst = m.offset() + o * (m.C() / 2) + blk * half;
                for (int j = 0; j < half; j++) {
                    m.data().set(dst + j, bf16(w.get(src + j)) | bf16(w.get(src + half + j)) << 16);
                }
            }
        }
    }

    private static void packInt8(FloatArray w, Matrix m) {
        int blocks = m.C() / QuantMatmul.BLOCK;
        int per = QuantMatmul.INT8_INTS;
        for (int o = 0; o < m.OC(); o++) {
            for (int blk = 0; blk < blocks; blk++) {
                int src = o * m.C() + blk * QuantMatmul.BLOCK;
                float max = 0f;
                for (int j = 0; j < QuantMatmul.BLOCK; j++) {
                    max = Math.max(max, Math.abs(w.get(src + j)));
                }
                float scale = max / 127f;
                float inverse = scale == 0f ? 0f : 1f / scale;
                m.scales().set(m.scaleOffset() + o * blocks + blk, scale);
                int dst = m.offset() + (o * blocks + blk) * per;
                for (int j = 0; j < per; j++) {
                    int word = 0;
                    for (int b = 0; b < 4; b++) {
                        int q = Math.clamp(Math.round(w.get(src + b * per + j) * inverse), -127, 127);
                        word |= (q & 0xFF) << 8 * b;
                    }
                    m.data().set(dst + j, word);
                }
            }
        }
    }

    /** out[N,OC] = inp[N,C]·Wᵀ + bias, W packed; bias may be null. */
    public static Launch forward(FloatArray out, FloatArray inp, Matrix w, FloatArray bias, int N) {
        FloatArray b = bias != null ? bias : new FloatArray(1);
        int hasBias = bias != null ? 1 : 0;
        FloatArray bBase = Slab.baseOf(b);
        int bOff = Slab.offsetOf(b);
        int C = w.C();
        int OC = w.OC();
        IntArray data = w.data();
        int off = w.offset();
        if (w.format() == Format.BF16) {
            return Launch.parallel("bf16MatmulForward",
                    (g, id) -> g.task(id, QuantMatmul::bf16Forward, out, inp, data, off, w.scales(), bBase, bOff, N, C, OC, hasBias),
                    jvm -> QuantMatmulVector.bf16Forward(jvm, out, inp, data, off, bias, N, C, OC));
        }
        FloatArray scales = w.scales();
        int sOff = w.scaleOffset();
        return Launch.parallel("int8MatmulForward",
                (g, id) -> g.task(id, QuantMatmul::int8Forward, out, inp, data, off, scales, sOff, bBase, bOff, N, C, OC, hasBias),
                jvm -> QuantMatmulVector.int8Forward(jvm, out, inp, data, off, scales, sOff, bias, N, C, OC));
    }
}
