package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The JVM backend's {@link QuantMatmul}: each output a dot product of an input row with a weight row widened by
 * vector operations (a bf16's bits shifted into a float's top half; an int8's byte sign-extended and converted), the
 * weight row read from memory for the first input row and from L1 for the others. Beyond the matrix-vector path's
 * rows (a prefill's 64), widening each weight again for every row would cost more than the products: four weight rows
 * at a time are widened once into floats, then multiplied by every input row as fp32 ({@code MatmulVector} draws
 * the same line between its two paths). Tasks of {@link #COLUMNS} outputs go to the pool; each output is summed in
 * one order whatever the thread count.
 */
public final class QuantMatmulVector {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** int8 blocks are 8 ints: vectors of 8 lanes. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The upper 8 lanes of a 16-lane vector: the second block of a pair. */
    private static final VectorMask<Float> SECOND_BLOCK = F.length() == 16 ? VectorMask.fromLong(F, 0xFF00L) : null;
    private static final int COLUMNS = 64;

    private QuantMatmulVector() {
    }

    /** {@link QuantMatmul#bf16Forward} (no table needed: the bits become a float's top half); bias may be null. */
    public static void bf16Forward(MatmulVector.Pool pool, FloatArray out, FloatArray inp, IntArray w, int wOff, FloatArray bias, int N, int C,
            int OC) {
        if (F.length() > QuantMatmul.BF16_INTS) {
            throw new IllegalStateException("vectors of " + F.length() + " floats: bf16 blocks hold runs of " + QuantMatmul.BF16_INTS);
        }
        MemorySegment x = inp.getSegment();
        MemorySegment ws = w.getSegment();
        MemorySegment y = out.getSegment();
        MemorySegment b = bias == null ? null : bias.getSegment();
        if (N > MatmulVector.GEMV_ROWS) {
            widenedRows(pool, y, b, x, N, C, OC, (o, dst, at) -> bf16Row(ws, wOff + (long) o * (C / 2), C, dst, at));
            return;
        }
        pool.parallelFor((OC + COLUMNS - 1) / COLUMNS, t -> {
            for (int o = t * COLUMNS, o1 = Math.min(OC, o + COLUMNS); o < o1; o++) {
                long row = wOff + (long) o * (C / 2);
                for (int n = 0; n < N; n++) {
                    store(y, b, (long) n * OC + o, o, bf16Dot(x, (long) n * C, ws, row, C));
                }
            }
        });
    }

    private static float bf16Dot(MemorySegment x, long xi, MemorySegment w, long row, int C) {
        FloatVector lo = FloatVector.zero(F);
        FloatVector hi = FloatVector.zero(F);
        int L = F.length();
        for (int blk = 0; blk < C / QuantMatmul.BLOCK; blk++) {
            long ints = row + (long) blk * QuantMatmul.BF16_INTS;
            long xb = xi + (long) blk * QuantMatmul.BLOCK;
            for (int j = 0; j < QuantMatmul.BF16_INTS; j += L) {
                IntVector v = IntVector.fromMemorySegment(I, w, 4 * (ints + j), ORDER);
                lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, x, 4 * (xb + j), ORDER), lo);
                hi = v.and(0xFFFF0000).reinterpretAsFloats()
                        .fma(FloatVector.fromMemorySegment(F, x, 4 * (xb + QuantMatmul.BF16_INTS + j), ORDER), hi);
            }
        }
        return VectorRows.addHalves(lo.add(hi));
    }

    /**
     * {@link QuantMatmul#int8Forward}; bias may be null. With vectors of 16 floats, two blocks at a time: the input row
     * is first laid out as the ints' bytes are (for each pair of blocks, byte b of its 16 ints against 16 inputs), so
     * that each of the four bytes multiplies one contiguous vector.
     */
    public static void int8Forward(MatmulVector.Pool pool, FloatArray out, FloatArray inp, IntArray q, int qOff, FloatArray scales, int sOff,
            FloatArray bias, int N, int C, int OC) {
        MemorySegment qs = q.getSegment();
        MemorySegment s = scales.getSegment();
        MemorySegment y = out.getSegment();
        MemorySegment b = bias == null ? null : bias.getSegment();
        int blocks = C / QuantMatmul.BLOCK;
        if (N > MatmulVector.GEMV_ROWS) {
            widenedRows(pool, y, b, inp.getSegment(), N, C, OC,
                    (o, dst, at) -> int8Row(qs, qOff + (long) o * blocks * QuantMatmul.INT8_INTS, s, sOff + (long) o * blocks, blocks, dst, at));
            return;
        }
        boolean pairs = F.length() == 2 * QuantMatmul.INT8_INTS && blocks % 2 == 0;
        MemorySegment x = pairs ? byByte(inp, N, C) : inp.getSegment();
        pool.parallelFor((OC + COLUMNS - 1) / COLUMNS, t -> {
            for (int o = t * COLUMNS, o1 = Math.min(OC, o + COLUMNS); o < o1; o++) {
                long row = qOff + (long) o * blocks * QuantMatmul.INT8_INTS;
                long scale = sOff + (long) o * blocks;
                for (int n = 0; n < N; n++) {
                    float dot = pairs ? int8PairsDot(x, (long) n * C, qs, row, s, scale, blocks) : int8Dot(x, (long) n * C, qs, row, s, scale, blocks);
                    store(y, b, (long) n * OC + o, o, dot);
                }
            }
        });
    }

    /**
     * Each row of inp reordered for {@link #int8PairsDot}: per pair of blocks (64 inputs), for byte b in 0..3, the
     * inputs that byte b of the pair's 16 ints holds: 8 of the first block's (8b..8b+7), then 8 of the second's.
     */
    private static MemorySegment byByte(FloatArray inp, int N, int C) {
        MemorySegment x = inp.getSegment();
        MemorySegment r = VectorRows.scratch(N * C);
        int E = QuantMatmul.INT8_INTS;
        for (int n = 0; n < N; n++) {
            for (int pair = 0; pair < C / (2 * QuantMatmul.BLOCK); pair++) {
                long base = (long) n * C + pair * 2L * QuantMatmul.BLOCK;
                for (int byt = 0; byt < 4; byt++) {
                    for (int half = 0; half < 2; half++) {
                        MemorySegment.copy(x, 4 * (base + half * QuantMatmul.BLOCK + byt * E), r, 4 * (base + byt * 2L * E + half * E), 4L * E);
                    }
                }
            }
        }
        return r;
    }

    private static float int8PairsDot(MemorySegment x, long xi, MemorySegment q, long row, MemorySegment s, long scale, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        int E = QuantMatmul.INT8_INTS;
        for (int blk = 0; blk < blocks; blk += 2) {
            IntVector v = IntVector.fromMemorySegment(I, q, 4 * (row + (long) blk * E), ORDER);
            long xb = xi + (long) blk * QuantMatmul.BLOCK;
            FloatVector d = widen(v, 24).mul(FloatVector.fromMemorySegment(F, x, 4 * xb, ORDER));
            d = widen(v, 16).fma(FloatVector.fromMemorySegment(F, x, 4 * (xb + 2 * E), ORDER), d);
            d = widen(v, 8).fma(FloatVector.fromMemorySegment(F, x, 4 * (xb + 4 * E), ORDER), d);
            d = widen(v, 0).fma(FloatVector.fromMemorySegment(F, x, 4 * (xb + 6 * E), ORDER), d);
            FloatVector sv = FloatVector.broadcast(F, s.getAtIndex(JAVA_FLOAT, scale + blk))
                    .blend(s.getAtIndex(JAVA_FLOAT, scale + blk + 1), SECOND_BLOCK);
            acc = d.fma(sv, acc);
        }
        return VectorRows.addHalves(acc);
    }

    private static float int8Dot(MemorySegment x, long xi, MemorySegment q, long row, MemorySegment s, long scale, int blocks) {
        FloatVector acc = FloatVector.zero(F8);
        int E = QuantMatmul.INT8_INTS;
        for (int blk = 0; blk < blocks; blk++) {
            IntVector v = IntVector.fromMemorySegment(I8, q, 4 * (row + (long) blk * E), ORDER);
            long xb = xi + (long) blk * QuantMatmul.BLOCK;
            FloatVector d = widen(v, 24).mul(FloatVector.fromMemorySegment(F8, x, 4 * xb, ORDER));
            d = widen(v, 16).fma(FloatVector.fromMemorySegment(F8, x, 4 * (xb + E), ORDER), d);
            d = widen(v, 8).fma(FloatVector.fromMemorySegment(F8, x, 4 * (xb + 2 * E), ORDER), d);
            d = widen(v, 0).fma(FloatVector.fromMemorySegment(F8, x, 4 * (xb + 3 * E), ORDER), d);
            acc = d.fma(FloatVector.broadcast(F8, s.getAtIndex(JAVA_FLOAT, scale + blk)), acc);
        }
        return VectorRows.addHalves(acc);
    }

    /** Writes weight row o, widened to C floats, at float {@code at} of dst. */
    @FunctionalInterface
    private interface RowWidener {
        void widen(int o, MemorySegment dst, long at);
    }

    /** out = inp·Wᵀ + bias for N rows beyond the matrix-vector path's: four weight rows widened at a time, then fp32. */
    private static void widenedRows(MatmulVector.Pool pool, MemorySegment y, MemorySegment b, MemorySegment x, int N, int C, int OC,
            RowWidener rows) {
        pool.parallelFor((OC + COLUMNS - 1) / COLUMNS, t -> {
            MemorySegment w = VectorRows.scratch(4 * C);
            for (int o = t * COLUMNS, o1 = Math.min(OC, o + COLUMNS); o < o1; o += 4) {
                int cols = Math.min(4, o1 - o);
                for (int j = 0; j < cols; j++) {
                    rows.widen(o + j, w, (long) j * C);
                }
                MatmulVector.rowsByColumns(y, b, OC, o, N, C, x, w, cols);
            }
        });
    }

    /** A bf16 row at int {@code row} of w as C floats (exactly: a bf16 is a float's top half). */
    private static void bf16Row(MemorySegment w, long row, int C, MemorySegment dst, long at) {
        for (int blk = 0; blk < C / QuantMatmul.BLOCK; blk++) {
            long ints = row + (long) blk * QuantMatmul.BF16_INTS;
            long to = at + (long) blk * QuantMatmul.BLOCK;
            for (int j = 0; j < QuantMatmul.BF16_INTS; j += F.length()) {
                IntVector v = IntVector.fromMemorySegment(I, w, 4 * (ints + j), ORDER);
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, 4 * (to + j), ORDER);
                v.and(0xFFFF0000).reinterpretAsFloats().intoMemorySegment(dst, 4 * (to + QuantMatmul.BF16_INTS + j), ORDER);
            }
        }
    }

    /** An int8 row (ints at {@code row} of q, scales at {@code scale} of s) as C floats, each its byte times its block's scale. */
    private static void int8Row(MemorySegment q, long row, MemorySegment s, long scale, int blocks, MemorySegment dst, long at) {
        int E = QuantMatmul.INT8_INTS;
        for (int blk = 0; blk < blocks; blk++) {
            IntVector v = IntVector.fromMemorySegment(I8, q, 4 * (row + (long) blk * E), ORDER);
            FloatVector sv = FloatVector.broadcast(F8, s.getAtIndex(JAVA_FLOAT, scale + blk));
            long to = at + (long) blk * QuantMatmul.BLOCK;
            // widen written out, so that no vector crosses a call the JIT might not inline (with the call, one bench
            // process ran an int8 prefill at 2x bf16's time; none has since)
            for (int byt = 0; byt < 4; byt++) {
                IntVector b = v.lanewise(VectorOperators.LSHL, 24 - 8 * byt).lanewise(VectorOperators.ASHR, 24);
                ((FloatVector) b.convert(VectorOperators.I2F, 0)).mul(sv).intoMemorySegment(dst, 4 * (to + (long) byt * E), ORDER);
            }
        }
    }

    /** The signed byte that a left shift by {@code shift} brings to the top of each lane, as floats. */
    private static FloatVector widen(IntVector v, int shift) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
    }

    private static void store(MemorySegment y, MemorySegment bias, long yi, int o, float dot) {
        y.setAtIndex(JAVA_FLOAT, yi, bias == null ? dot : dot + bias.getAtIndex(JAVA_FLOAT, o));
    }
}
