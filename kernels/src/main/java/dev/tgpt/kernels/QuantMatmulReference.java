package dev.tgpt.kernels;

/**
 * {@link QuantMatmul}'s layouts read back plainly, value by value, in double precision: the weight a packed matrix
 * stands for, for {@link MatmulReference#forward} to multiply by. What the kernels and the packing are checked
 * against.
 */
public final class QuantMatmulReference {

    private QuantMatmulReference() {
    }

    /** W[OC, C] from bf16 packed as {@link QuantMatmul} lays it out. */
    public static double[] bf16Weight(int[] packed, int OC, int C) {
        double[] w = new double[OC * C];
        for (int o = 0; o < OC; o++) {
            for (int c = 0; c < C; c++) {
                int block = c / QuantMatmul.BLOCK;
                int j = c % QuantMatmul.BLOCK;
                int word = packed[o * (C / 2) + block * QuantMatmul.BF16_INTS + j % QuantMatmul.BF16_INTS];
                int half = j < QuantMatmul.BF16_INTS ? word & 0xFFFF : word >>> 16;
                w[o * C + c] = Float.intBitsToFloat(half << 16);
            }
        }
        return w;
    }

    /** W[OC, C] from int8 and per-block scales packed as {@link QuantMatmul} lays them out. */
    public static double[] int8Weight(int[] packed, float[] scales, int OC, int C) {
        double[] w = new double[OC * C];
        int blocks = C / QuantMatmul.BLOCK;
        for (int o = 0; o < OC; o++) {
            for (int c = 0; c < C; c++) {
                int block = c / QuantMatmul.BLOCK;
                int j = c % QuantMatmul.BLOCK;
                int word = packed[(o * blocks + block) * QuantMatmul.INT8_INTS + j % QuantMatmul.INT8_INTS];
                byte value = (byte) (word >> 8 * (j / QuantMatmul.INT8_INTS));
                w[o * C + c] = value * (double) scales[o * blocks + block];
            }
        }
        return w;
    }
}
