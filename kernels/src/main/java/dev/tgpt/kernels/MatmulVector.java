package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's matmul: {@link Matmul}'s products with the Vector API, blocked like a BLAS (GotoBLAS/BLIS).
 *
 * <p>Every product is C[M,N] += A[M,K]·B[K,N] with A and B read through strides. B is packed once per call into
 * panels of NR columns ([k][NR], contiguous); each work unit (up to MC rows, or MC_ALONE on one thread, × a slab of
 * panels) packs its rows of A per k-block of KC into groups of MR rows ([k][MR]) and runs the micro-kernel: an MR × NR
 * tile of C held in registers (8 rows × 2 vectors = 16 accumulators), fed per k by two loads of B and MR broadcasts of
 * A, then added to C. A B panel's k-block (KC × NR floats) stays in L1 while the unit's row groups stream past it from L2.
 * Operands that lie with k contiguous (the forward's weight, the rows of inp and dout) are transposed while packing,
 * by bulk copies and gathers (about a cycle a float, by a profile of the main job's step). When B is small, a
 * matrix of few rows is split into units of fewer rows rather than into more column slabs, which would each pack the
 * same rows again (packing all of A once per call instead, in one buffer, was as fast on small matrices but 10–25%
 * slower at N = 4,096, out of cache).
 *
 * <p>A product of few rows whose A and B both lie with k contiguous (the forward of a decoding step: a row per
 * sequence against the weight) skips the packing, which would copy the whole weight for a row or two: each output is a
 * dot product of two contiguous rows ({@link #gemv}), the weight read once from memory and from L1 for the other rows.
 *
 * <p>Each output element is summed in one fixed order (k-blocks in turn, k in turn within; on the matrix-vector path
 * lanes, then the lanes by halves, {@link VectorRows#addHalves}), whatever the thread count and the JIT: results are
 * reproducible. Work is handed out through {@link Pool}, so this class knows nothing of the engine. Memory: the
 * calling thread keeps its packed B (at most 16 MiB), each worker thread ~300 KiB of buffers.
 */
public final class MatmulVector {

    /** The JVM backend's threads, as this class sees them. */
    public interface Pool {
        /** Runs body(i) for i in [0, n), in any order, possibly on several threads. */
        void parallelFor(int n, IntConsumer body);

        /** How many threads share a {@link #parallelFor}. */
        int threads();
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Rows of the register tile. */
    static final int MR = 8;
    /** A vector of MR floats: a row group's slice of A at one k. */
    private static final VectorSpecies<Float> ROW = VectorSpecies.of(float.class, VectorShape.forBitSize(MR * Float.SIZE));
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a k-block: a B panel's block (KC × NR floats, 32 KiB with AVX-512) stays in L1. */
    static final int KC = 256;
    /** Rows of a work unit at most (a multiple of MR) where threads share a call: its packed A (MC × KC) stays in L2. */
    static final int MC = 64;
    /**
     * Rows of a work unit at most on one thread, which takes a call as one unit: each row of A packed once per k-block
     * (256 KiB of it, still in L2) and B streamed once per 256 rows. With GPT-2's 256 rows a rank, the products of a
     * step took 10% less time than in units of MC rows; with two threads, units this big were within the noise for
     * GPT-2 and ~2% slower for the main job's model.
     */
    static final int MC_ALONE = 256;
    /** Packed B of at most this many floats (1 MiB) stays in L2 while units of few rows take turns with it. */
    private static final int SMALL_B = 1 << 18;
    /** At least this many work units per call where threads share it, splitting columns into slabs when there are few rows. */
    private static final int MIN_UNITS = 16;
    /** B is packed at most this many floats at a time (16 MiB): wider B goes in column groups. */
    private static final int MAX_PACKED_B = 1 << 22;

    /** Rows of A at most for the matrix-vector path. */
    static final int GEMV_ROWS = 16;
    /** Output columns per task of the matrix-vector path. */
    private static final int GEMV_COLUMNS = 64;

    /** Below this many multiply-adds (~20 µs on one core) handing work to other threads costs more than it saves. */
    private static final long SERIAL_WORK = 1 << 20;
    private static final Pool SERIAL = new Pool() {
        @Override
        public void parallelFor(int n, IntConsumer body) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        }

        @Override
        public int threads() {
            return 1;
        }
    };

    private MatmulVector() {
    }

    /** out[N,OC] = inp[N,C]·weightᵀ + bias; bias may be null. */
    public static void forward(Pool pool, FloatArray out, FloatArray inp, FloatArray weight, FloatArray bias, int N, int C, int OC) {
        gemm(pool, out.getSegment(), bias == null ? null : bias.getSegment(), true, N, OC, C, inp.getSegment(), C, 1,
                weight.getSegment(), 1, C);
    }

    /** dinp[N,C] += dout[N,OC]·weight[OC,C]. */
    public static void backwardInput(Pool pool, FloatArray dinp, FloatArray dout, FloatArray weight, int N, int C, int OC) {
        gemm(pool, dinp.getSegment(), null, false, N, C, OC, dout.getSegment(), OC, 1, weight.getSegment(), C, 1);
    }

    /** dweight[OC,C] += doutᵀ·inp[N,C]. */
    public static void backwardWeight(Pool pool, FloatArray dweight, FloatArray dout, FloatArray inp, int N, int C, int OC) {
        gemm(pool, dweight.getSegment(), null, false, OC, C, N, dout.getSegment(), 1, OC, inp.getSegment(), C, 1);
    }

    /**
     * dbias[OC] += Σ_n dout[n, ·]: a vector of columns per task, rows summed in order from 0, then added, exactly as
     * {@link Matmul#biasGradColumn} does per column (so both backends give the same bits).
     */
    public static void backwardBias(Pool pool, FloatArray dbias, FloatArray dout, int N, int OC) {
        MemorySegment db = dbias.getSegment();
        MemorySegment dy = dout.getSegment();
        pool.parallelFor((OC + L - 1) / L, j -> {
            int o = j * L;
            VectorMask<Float> m = S.indexInRange(o, OC);
            FloatVector sum = FloatVector.zero(S);
            for (int n = 0; n < N; n++) {
                sum = sum.add(FloatVector.fromMemorySegment(S, dy, 4L * ((long) n * OC + o), ORDER, m));
            }
            FloatVector.fromMemorySegment(S, db, 4L * o, ORDER, m).add(sum).intoMemorySegment(db, 4L * o, ORDER, m);
        });
    }

    /**
     * C[M,N] += A·B, or C = A·B + bias (bias per column, or none) when {@code overwrite}. C is row-major with N
     * columns; A(m,k) = a[m·aM + k·aK] with aM or aK 1; B(k,n) = b[k·bK + n·bN] with bK or bN 1.
     */
    static void gemm(Pool pool, MemorySegment c, MemorySegment bias, boolean overwrite, int M, int N, int K, MemorySegment a, int aM,
            int aK, MemorySegment b, int bK, int bN) {
        if (M == 0 || N == 0) {
            return;
        }
        if ((long) M * N * K < SERIAL_WORK) {
            pool = SERIAL;
        }
        if (M <= GEMV_ROWS && aK == 1 && bK == 1) {
            gemv(pool, c, bias, overwrite, M, N, K, a, aM, b, bN);
            return;
        }
        int group = Math.min(roundUp(N, NR), Math.max(NR, MAX_PACKED_B / Math.max(K, 1) / NR * NR));
        float[] packedB = packedB(group * K);
        // When B's packed panels fit in L2, units of fewer rows than MC rather than column slabs, each of which would
        // pack the same rows of A again (at M = 256, 4 times); a B that does not fit is better streamed once.
        boolean alone = pool.threads() == 1;
        int minUnits = alone ? 1 : MIN_UNITS;
        int maxRows = alone ? MC_ALONE : MC;
        int mc = (long) group * K <= SMALL_B ? Math.min(maxRows, roundUp((M + minUnits - 1) / minUnits, MR)) : maxRows;
        int rowBlocks = (M + mc - 1) / mc;
        for (int n0 = 0; n0 < N; n0 += group) {
            int first = n0;
            int columns = Math.min(group, N - n0);
            int panels = (columns + NR - 1) / NR;
            pool.parallelFor(panels, q -> packB(packedB, b, bK, bN, K, N, first, q));
            int slabs = Math.min(panels, (minUnits + rowBlocks - 1) / rowBlocks);
            int perSlab = (panels + slabs - 1) / slabs;
            pool.parallelFor(rowBlocks * slabs, u -> multiply(c, bias, overwrite, M, N, K, a, aM, aK, packedB, first, panels, mc,
                    u / slabs, (u % slabs) * perSlab, perSlab));
        }
    }

    /**
     * C[M,N] (+)= A·B when rows of A (a[m·aM + k]) and columns of B (b[n·bN + k]) lie with k contiguous. One row: four
     * columns at a time ({@link #dot4}), each summed as {@link #dot} sums one (a column at a time where K is not a
     * multiple of 4L); more rows: four columns at a time against each row in turn,
     * the columns read from memory for the first row and from L1 for the others (40 ms a step at 8 rows, against 58 a
     * column at a time).
     */
    private static void gemv(Pool pool, MemorySegment c, MemorySegment bias, boolean overwrite, int M, int N, int K, MemorySegment a, int aM,
            MemorySegment b, int bN) {
        pool.parallelFor((N + GEMV_COLUMNS - 1) / GEMV_COLUMNS, t -> {
            int n1 = Math.min(N, (t + 1) * GEMV_COLUMNS);
            for (int n = t * GEMV_COLUMNS; n < n1; n += M == 1 && K % (4 * L) != 0 ? 1 : 4) {
                if (M == 1 && K % (4 * L) == 0) {
                    dot4(c, bias, overwrite, K, a, b, bN, n, Math.min(4, n1 - n));
                    continue;
                }
                if (M == 1) {
                    store(c, bias, overwrite, n, n, dot(K, a, 0, b, (long) n * bN));
                    continue;
                }
                int cols = Math.min(4, n1 - n);
                for (int m = 0; m < M; m++) {
                    dots(c, bias, overwrite, (long) m * N + n, n, K, a, (long) m * aM, b, (long) n * bN, bN, cols);
                }
            }
        });
    }

    /** The dot product of K floats at x and y: four vector sums in turn (four loads in flight), then their lanes. */
    private static float dot(int K, MemorySegment a, long x, MemorySegment b, long y) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        int k = 0;
        for (int k4 = K - K % (4 * L); k < k4; k += 4 * L) {
            s0 = FloatVector.fromMemorySegment(S, b, 4 * (y + k), ORDER).fma(FloatVector.fromMemorySegment(S, a, 4 * (x + k), ORDER), s0);
            s1 = FloatVector.fromMemorySegment(S, b, 4 * (y + k + L), ORDER).fma(FloatVector.fromMemorySegment(S, a, 4 * (x + k + L), ORDER), s1);
            s2 = FloatVector.fromMemorySegment(S, b, 4 * (y + k + 2 * L), ORDER).fma(FloatVector.fromMemorySegment(S, a, 4 * (x + k + 2 * L), ORDER), s2);
            s3 = FloatVector.fromMemorySegment(S, b, 4 * (y + k + 3 * L), ORDER).fma(FloatVector.fromMemorySegment(S, a, 4 * (x + k + 3 * L), ORDER), s3);
        }
        for (int kv = K - K % L; k < kv; k += L) {
            s0 = FloatVector.fromMemorySegment(S, b, 4 * (y + k), ORDER).fma(FloatVector.fromMemorySegment(S, a, 4 * (x + k), ORDER), s0);
        }
        float d = VectorRows.addHalves(s0.add(s1).add(s2.add(s3)));
        for (; k < K; k++) {
            d += b.getAtIndex(JAVA_FLOAT, y + k) * a.getAtIndex(JAVA_FLOAT, x + k);
        }
        return d;
    }

    /**
     * {@link #dot} of A's one row with B's columns n + j for j < cols (at most 4; the columns beyond are computed again
     * from column n and not stored), each summed in dot's order (the same bits), for K a multiple of 4L: a vector of A
     * loaded once serves four columns. Loading it again for each column held a decoding step's matrix-vector products
     * to about half the rate the weights stream from memory (a harness here: 13 GB/s a thread, against 17-23 with this
     * and 24 for a plain sum of the same weights). The columns are unrolled by hand: a helper taking their vectors
     * would box them where the JIT does not inline it.
     */
    private static void dot4(MemorySegment c, MemorySegment bias, boolean overwrite, int K, MemorySegment a, MemorySegment b, int bN, int n,
            int cols) {
        long y0 = (long) n * bN;
        long y1 = cols > 1 ? y0 + bN : y0;
        long y2 = cols > 2 ? y1 + bN : y0;
        long y3 = cols > 3 ? y2 + bN : y0;
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        FloatVector s20 = FloatVector.zero(S), s21 = FloatVector.zero(S), s22 = FloatVector.zero(S), s23 = FloatVector.zero(S);
        FloatVector s30 = FloatVector.zero(S), s31 = FloatVector.zero(S), s32 = FloatVector.zero(S), s33 = FloatVector.zero(S);
        for (int k = 0; k < K; k += 4 * L) {
            FloatVector x0 = FloatVector.fromMemorySegment(S, a, 4L * k, ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(S, a, 4L * (k + L), ORDER);
            FloatVector x2 = FloatVector.fromMemorySegment(S, a, 4L * (k + 2 * L), ORDER);
            FloatVector x3 = FloatVector.fromMemorySegment(S, a, 4L * (k + 3 * L), ORDER);
            s00 = FloatVector.fromMemorySegment(S, b, 4 * (y0 + k), ORDER).fma(x0, s00);
            s01 = FloatVector.fromMemorySegment(S, b, 4 * (y0 + k + L), ORDER).fma(x1, s01);
            s02 = FloatVector.fromMemorySegment(S, b, 4 * (y0 + k + 2 * L), ORDER).fma(x2, s02);
            s03 = FloatVector.fromMemorySegment(S, b, 4 * (y0 + k + 3 * L), ORDER).fma(x3, s03);
            s10 = FloatVector.fromMemorySegment(S, b, 4 * (y1 + k), ORDER).fma(x0, s10);
            s11 = FloatVector.fromMemorySegment(S, b, 4 * (y1 + k + L), ORDER).fma(x1, s11);
            s12 = FloatVector.fromMemorySegment(S, b, 4 * (y1 + k + 2 * L), ORDER).fma(x2, s12);
            s13 = FloatVector.fromMemorySegment(S, b, 4 * (y1 + k + 3 * L), ORDER).fma(x3, s13);
            s20 = FloatVector.fromMemorySegment(S, b, 4 * (y2 + k), ORDER).fma(x0, s20);
            s21 = FloatVector.fromMemorySegment(S, b, 4 * (y2 + k + L), ORDER).fma(x1, s21);
            s22 = FloatVector.fromMemorySegment(S, b, 4 * (y2 + k + 2 * L), ORDER).fma(x2, s22);
            s23 = FloatVector.fromMemorySegment(S, b, 4 * (y2 + k + 3 * L), ORDER).fma(x3, s23);
            s30 = FloatVector.fromMemorySegment(S, b, 4 * (y3 + k), ORDER).fma(x0, s30);
            s31 = FloatVector.fromMemorySegment(S, b, 4 * (y3 + k + L), ORDER).fma(x1, s31);
            s32 = FloatVector.fromMemorySegment(S, b, 4 * (y3 + k + 2 * L), ORDER).fma(x2, s32);
            s33 = FloatVector.fromMemorySegment(S, b, 4 * (y3 + k + 3 * L), ORDER).fma(x3, s33);
        }
        FloatVector v0 = s00.add(s01).add(s02.add(s03));
        FloatVector v1 = s10.add(s11).add(s12.add(s13));
        FloatVector v2 = s20.add(s21).add(s22.add(s23));
        FloatVector v3 = s30.add(s31).add(s32.add(s33));
        // VectorRows.addHalves written out: a method this long does not inline it, and a vector passed to a call is boxed
        for (VectorShuffle<Float> h : VectorRows.HALVES) {
            v0 = v0.add(v0.rearrange(h));
            v1 = v1.add(v1.rearrange(h));
            v2 = v2.add(v2.rearrange(h));
            v3 = v3.add(v3.rearrange(h));
        }
        store(c, bias, overwrite, n, n, v0.lane(0));
        if (cols > 1) {
            store(c, bias, overwrite, n + 1, n + 1, v1.lane(0));
        }
        if (cols > 2) {
            store(c, bias, overwrite, n + 2, n + 2, v2.lane(0));
        }
        if (cols > 3) {
            store(c, bias, overwrite, n + 3, n + 3, v3.lane(0));
        }
    }

    /**
     * c[ci + j] (+)= the dot product of A's row at ai with B's column at b0 + j·bN (bias[n + j] under overwrite), for
     * j < cols (at most 4; the columns beyond are computed again from the first and not stored).
     */
    private static void dots(MemorySegment c, MemorySegment bias, boolean overwrite, long ci, int n, int K, MemorySegment a, long ai,
            MemorySegment b, long b0, int bN, int cols) {
        long b1 = cols > 1 ? b0 + bN : b0;
        long b2 = cols > 2 ? b1 + bN : b0;
        long b3 = cols > 3 ? b2 + bN : b0;
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        int k = 0;
        for (int kv = K - K % L; k < kv; k += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, a, 4 * (ai + k), ORDER);
            s0 = FloatVector.fromMemorySegment(S, b, 4 * (b0 + k), ORDER).fma(x, s0);
            s1 = FloatVector.fromMemorySegment(S, b, 4 * (b1 + k), ORDER).fma(x, s1);
            s2 = FloatVector.fromMemorySegment(S, b, 4 * (b2 + k), ORDER).fma(x, s2);
            s3 = FloatVector.fromMemorySegment(S, b, 4 * (b3 + k), ORDER).fma(x, s3);
        }
        float d0 = VectorRows.addHalves(s0);
        float d1 = VectorRows.addHalves(s1);
        float d2 = VectorRows.addHalves(s2);
        float d3 = VectorRows.addHalves(s3);
        for (; k < K; k++) {
            float x = a.getAtIndex(JAVA_FLOAT, ai + k);
            d0 += b.getAtIndex(JAVA_FLOAT, b0 + k) * x;
            d1 += b.getAtIndex(JAVA_FLOAT, b1 + k) * x;
            d2 += b.getAtIndex(JAVA_FLOAT, b2 + k) * x;
            d3 += b.getAtIndex(JAVA_FLOAT, b3 + k) * x;
        }
        store(c, bias, overwrite, ci, n, d0);
        if (cols > 1) {
            store(c, bias, overwrite, ci + 1, n + 1, d1);
        }
        if (cols > 2) {
            store(c, bias, overwrite, ci + 2, n + 2, d2);
        }
        if (cols > 3) {
            store(c, bias, overwrite, ci + 3, n + 3, d3);
        }
    }

    /**
     * out[m, o..o+cols) = bias[o..] + inp[m, ·]·w's columns, for every row m of N: the columns (at most 4) lie at w
     * with C floats each (a quantized weight's, widened once for all the rows: {@link QuantMatmulVector}).
     */
    static void rowsByColumns(MemorySegment out, MemorySegment bias, int OC, int o, int N, int C, MemorySegment inp, MemorySegment w,
            int cols) {
        for (int m = 0; m < N; m++) {
            dots(out, bias, true, (long) m * OC + o, o, C, inp, (long) m * C, w, 0, C, cols);
        }
    }

    private static void store(MemorySegment c, MemorySegment bias, boolean overwrite, long ci, int n, float dot) {
        float base = overwrite ? (bias == null ? 0f : bias.getAtIndex(JAVA_FLOAT, n)) : c.getAtIndex(JAVA_FLOAT, ci);
        c.setAtIndex(JAVA_FLOAT, ci, base + dot);
    }

    /** Rows [block·mc, +mc) × panels [q0, q0 + count) of the column group starting at n0. */
    private static void multiply(MemorySegment c, MemorySegment bias, boolean overwrite, int M, int N, int K, MemorySegment a, int aM,
            int aK, float[] packedB, int n0, int panels, int mc, int block, int q0, int count) {
        int q1 = Math.min(panels, q0 + count);
        if (q0 >= q1) {
            return;
        }
        Scratch s = SCRATCH.get();
        int m0 = block * mc;
        int m1 = Math.min(M, m0 + mc);
        int groups = (m1 - m0 + MR - 1) / MR;
        if (overwrite) {
            initialize(c, bias, m0, m1, n0 + q0 * NR, Math.min(N, n0 + q1 * NR), N);
        }
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = Math.min(KC, K - k0);
            for (int g = 0; g < groups; g++) {
                int r0 = m0 + g * MR;
                int rows = Math.min(MR, m1 - r0);
                if (aK == 1) {
                    packTransposed(s.a, g * kc * MR, MR, rows, a, (long) r0 * aM + k0, aM, kc, s);
                } else {
                    packRows(s.a, g * kc * MR, MR, rows, a, (long) k0 * aK + r0, aK, kc);
                }
            }
            for (int q = q0; q < q1; q++) {
                int col = n0 + q * NR;
                int cols = Math.min(NR, N - col);
                int bi = (q * K + k0) * NR;
                for (int g = 0; g < groups; g++) {
                    int r0 = m0 + g * MR;
                    int rows = Math.min(MR, m1 - r0);
                    long ci = (long) r0 * N + col;
                    kernel(s.a, g * kc * MR, packedB, bi, kc, s.tile);
                    addTile(c, s.tile, ci, N, rows, cols);
                }
            }
        }
    }

    /**
     * The MR × NR register tile of A·B over kc steps, written to tile (row-major, NR wide) for the caller to add to C.
     * The accumulators stay in this method: passing vectors to a call that is not inlined would box them. Adding to C
     * here instead would save a store and a load of the tile per k-block (~1%), but made the method big enough that
     * C1 sometimes failed to compile it ("out of virtual registers"), which left it in C1's code for the rest of the
     * run, with every vector boxed: ~100× slower.
     */
    private static void kernel(float[] ap, int ai, float[] bp, int bi, int kc, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int k = 0; k < kc; k++) {
            int ak = ai + k * MR;
            int bk = bi + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bk);
            FloatVector b1 = FloatVector.fromArray(S, bp, bk + L);
            FloatVector x = FloatVector.broadcast(S, ap[ak]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ak + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ak + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ak + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ak + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ak + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ak + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ak + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
    }

    /** C[r0 + r, col + j] += tile[r, j] for the rows and columns inside C (ci: index of C[r0, col]). */
    private static void addTile(MemorySegment c, float[] tile, long ci, int ldc, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long row = 4 * (ci + (long) r * ldc);
            if (cols == NR) {
                for (int j = 0; j < NR; j += L) {
                    FloatVector.fromMemorySegment(S, c, row + 4L * j, ORDER).add(FloatVector.fromArray(S, tile, r * NR + j))
                            .intoMemorySegment(c, row + 4L * j, ORDER);
                }
                continue;
            }
            for (int j = 0; j < NR; j += L) {
                VectorMask<Float> m = S.indexInRange(j, cols);
                FloatVector.fromMemorySegment(S, c, row + 4L * j, ORDER, m).add(FloatVector.fromArray(S, tile, r * NR + j))
                        .intoMemorySegment(c, row + 4L * j, ORDER, m);
            }
        }
    }

    /** C[m0..m1, c0..c1] = bias[c0..c1] (or 0). */
    private static void initialize(MemorySegment c, MemorySegment bias, int m0, int m1, int c0, int c1, int ldc) {
        for (int m = m0; m < m1; m++) {
            long row = 4L * ((long) m * ldc);
            int j = c0;
            for (; j + L <= c1; j += L) {
                FloatVector v = bias == null ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, bias, 4L * j, ORDER);
                v.intoMemorySegment(c, row + 4L * j, ORDER);
            }
            if (j < c1) {
                VectorMask<Float> mask = S.indexInRange(j, c1);
                FloatVector v = bias == null ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, bias, 4L * j, ORDER, mask);
                v.intoMemorySegment(c, row + 4L * j, ORDER, mask);
            }
        }
    }

    /** Panel q of the column group at n0: packedB[(q·K + k)·NR + j] = B(k, n0 + q·NR + j), 0 past column N. */
    private static void packB(float[] packedB, MemorySegment b, int bK, int bN, int K, int N, int n0, int q) {
        int col = n0 + q * NR;
        int valid = Math.min(NR, N - col);
        if (bN == 1) {
            packRows(packedB, q * K * NR, NR, valid, b, col, bK, K);
        } else {
            packTransposed(packedB, q * K * NR, NR, valid, b, (long) col * bN, bN, K, SCRATCH.get());
        }
    }

    /**
     * dst[dstOff + k·R + r] = src[srcOff + k·stride + r] for k < len, r < valid; 0 for valid ≤ r < R, where R is
     * MR (one vector of {@link #ROW}) or NR (two of S): vector copies, with unmasked stores.
     */
    private static void packRows(float[] dst, int dstOff, int R, int valid, MemorySegment src, long srcOff, long stride, int len) {
        // unmasked when every row is valid: a masked access checks its bounds outside C2's intrinsic
        if (R == MR && valid == MR) {
            for (int k = 0; k < len; k++) {
                FloatVector.fromMemorySegment(ROW, src, 4 * (srcOff + k * stride), ORDER).intoArray(dst, dstOff + k * MR);
            }
        } else if (R == MR) {
            VectorMask<Float> m = ROW.indexInRange(0, valid);
            for (int k = 0; k < len; k++) {
                FloatVector.fromMemorySegment(ROW, src, 4 * (srcOff + k * stride), ORDER, m).intoArray(dst, dstOff + k * MR);
            }
        } else if (valid == NR) {
            for (int k = 0; k < len; k++) {
                long from = 4 * (srcOff + k * stride);
                int to = dstOff + k * NR;
                FloatVector.fromMemorySegment(S, src, from, ORDER).intoArray(dst, to);
                FloatVector.fromMemorySegment(S, src, from + 4L * L, ORDER).intoArray(dst, to + L);
            }
        } else {
            VectorMask<Float> m0 = S.indexInRange(0, valid);
            VectorMask<Float> m1 = S.indexInRange(L, valid);
            for (int k = 0; k < len; k++) {
                long from = 4 * (srcOff + k * stride);
                int to = dstOff + k * NR;
                FloatVector.fromMemorySegment(S, src, from, ORDER, m0).intoArray(dst, to);
                FloatVector.fromMemorySegment(S, src, from + 4L * L, ORDER, m1).intoArray(dst, to + L);
            }
        }
    }

    /**
     * dst[dstOff + k·R + r] = src[srcOff + r·stride + k] for k < len, r < valid; 0 for valid ≤ r < R. Rows of src
     * are contiguous: each chunk of R rows is copied in bulk, then read back transposed by gathers.
     */
    private static void packTransposed(float[] dst, int dstOff, int R, int valid, MemorySegment src, long srcOff, long stride, int len,
            Scratch s) {
        for (int k0 = 0; k0 < len; k0 += KC) {
            int n = Math.min(KC, len - k0);
            for (int r = 0; r < valid; r++) {
                MemorySegment.copy(src, JAVA_FLOAT, 4 * (srcOff + r * stride + k0), s.tmp, r * n, n);
            }
            Arrays.fill(s.tmp, valid * n, R * n, 0f);
            int[] map = s.transposeMap(R, n);
            int total = R * n;
            int to = dstOff + k0 * R;
            // Lane i of the vector at flat output t reads row (t + i) % R, column (t + i) / R: map plus an offset,
            // since R divides L or L divides R.
            for (int t = 0; t < total; t += L) {
                int offset = (t % R) * n + t / R;
                if (t + L <= total) {
                    FloatVector.fromArray(S, s.tmp, offset, map, 0).intoArray(dst, to + t);
                } else {
                    VectorMask<Float> m = S.indexInRange(t, total);
                    FloatVector.fromArray(S, s.tmp, offset, map, 0, m).intoArray(dst, to + t, m);
                }
            }
        }
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /** The calling thread's buffer for packed B, shared with the pool's threads during one call. */
    private static float[] packedB(int floats) {
        float[] p = PACKED_B.get();
        if (p.length < floats) {
            p = new float[floats];
            PACKED_B.set(p);
        }
        return p;
    }

    private static final ThreadLocal<float[]> PACKED_B = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** A worker thread's buffers. */
    private static final class Scratch {
        final float[] a = new float[MC_ALONE * KC];
        final float[] tile = new float[MR * NR];
        final float[] tmp = new float[Math.max(MR, NR) * KC];
        final int[] map = new int[L];
        int mapR;
        int mapN;

        /** map[i] = (i % R)·n + i / R: lane i's offset in a chunk of R rows of n floats. */
        int[] transposeMap(int R, int n) {
            if (R != mapR || n != mapN) {
                for (int i = 0; i < L; i++) {
                    map[i] = (i % R) * n + i / R;
                }
                mapR = R;
                mapN = n;
            }
            return map;
        }
    }
}
