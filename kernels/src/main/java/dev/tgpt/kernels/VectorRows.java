package dev.tgpt.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops over one row, shared by the JVM twins ({@link LayerNormVector}, {@link SoftmaxVector},
 * {@link CrossEntropyVector}; {@link GeluVector} and {@link AttentionVector} take their exps from here). A row is
 * elements [base, base + n) of a segment. Loops step by whole vectors and mask the last one ({@link #part}), so a row
 * of any length needs no scalar tail.
 *
 * <p>Rules the twins follow, learnt the hard way:
 * <ul>
 * <li>Each loop sits in a small method that takes and returns plain values; only one-call wrappers such as
 * {@link #load} pass vectors. A vector that crosses a call C2 did not inline is boxed on the heap, which makes a loop
 * several times slower, and C2 stops inlining in a method whose graph grows too large, or into a method it has
 * already compiled at some size on its own.
 * <li>Results do not depend on whether a method is compiled yet, nor on the thread count (a resumed training run must
 * match an uninterrupted one bit for bit). Sums add their lanes in lane order ({@link #addLanes}), not by
 * reduceLanes, whose order is left to the JIT; exp is computed by {@link #exps}, not by lanewise(EXP).
 * </ul>
 */
final class VectorRows {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    private VectorRows() {
    }

    /** The lanes of the vector at column j that lie in a row of n. */
    static VectorMask<Float> part(int j, int n) {
        return S.indexInRange(j, n);
    }

    /** The vector at element i; lanes outside m read as 0. */
    static FloatVector load(MemorySegment x, int i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, x, 4L * i, ORDER, m);
    }

    static FloatVector load(MemorySegment x, int i) {
        return FloatVector.fromMemorySegment(S, x, 4L * i, ORDER);
    }

    static void store(FloatVector v, MemorySegment x, int i, VectorMask<Float> m) {
        v.intoMemorySegment(x, 4L * i, ORDER, m);
    }

    static void store(FloatVector v, MemorySegment x, int i) {
        v.intoMemorySegment(x, 4L * i, ORDER);
    }

    /**
     * This thread's scratch row of at least n floats, off the heap and aligned to 64 bytes (a heap array's alignment
     * changes from run to run, and whole-vector accesses that straddle cache lines are slower). Exps computed into it
     * stay in L1 cache until written out: a loop that computes exps while its stores miss the cache runs about as slowly
     * as the two done one after the other.
     */
    static MemorySegment scratch(int n) {
        MemorySegment s = SCRATCH.get();
        if (s.byteSize() < 4L * n) {
            s = Arena.ofAuto().allocate(4L * n, 64);
            SCRATCH.set(s);
        }
        return s;
    }

    /** Lane 0 + lane 1 + … in that order. Small enough to inline anywhere: a vector passed to a call is boxed. */
    static float addLanes(FloatVector v) {
        return addInOrder(v.toArray());
    }

    /**
     * The lanes' sum by halves: lane i + lane i + L/2, then the same on the first half, down to lane 0; an order
     * fixed whatever the JIT does (unlike reduceLanes'), in shuffles and adds rather than {@link #addLanes}'s copy
     * to an array and scalar adds: the matrix-vector paths sum a vector for every output. For the preferred species
     * and 8-lane vectors.
     */
    static float addHalves(FloatVector v) {
        VectorShuffle<Float>[] halves = v.length() == S.length() ? HALVES : HALVES_8;
        for (VectorShuffle<Float> h : halves) {
            v = v.add(v.rearrange(h));
        }
        return v.lane(0);
    }

    static final VectorShuffle<Float>[] HALVES = halves(S);
    private static final VectorShuffle<Float>[] HALVES_8 = halves(FloatVector.SPECIES_256);

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves(VectorSpecies<Float> species) {
        int n = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<Float>[] out = new VectorShuffle[n];
        for (int k = 0, half = species.length() / 2; half > 0; k++, half /= 2) {
            int h = half;
            out[k] = VectorShuffle.fromOp(species, i -> i ^ h);
        }
        return out;
    }

    private static float addInOrder(float[] lanes) {
        float s = 0f;
        for (float f : lanes) {
            s += f;
        }
        return s;
    }

    static float sum(MemorySegment x, int base, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            acc = acc.add(load(x, base + j, part(j, n)));
        }
        return addLanes(acc);
    }

    /**
     * max(scale·x); {@link Softmax#LOWEST} for n = 0. Four running maxima: with one, each step would wait for the last
     * (Java's max takes several dependent instructions), which leaves long rows far from memory speed.
     */
    static float scaledMax(MemorySegment x, int base, float scale, int n) {
        FloatVector m0 = FloatVector.broadcast(S, Softmax.LOWEST);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            m0 = m0.max(load(x, base + j).mul(scale));
            m1 = m1.max(load(x, base + j + L).mul(scale));
            m2 = m2.max(load(x, base + j + 2 * L).mul(scale));
            m3 = m3.max(load(x, base + j + 3 * L).mul(scale));
        }
        for (; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            m0 = m0.lanewise(VectorOperators.MAX, load(x, base + j, m).mul(scale), m);
        }
        return m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX); // exact in any order
    }

    private static final float LOG2_E = 1.44269504088896341f;
    /** ln 2 in two parts: k·LN2_HI is exact for the k that occur, LN2_LO adds the rest. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2²³: adding it to a float of magnitude below 2²² rounds that to an integer, left in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    /** Below this, exp is below the smallest normal float: taken as 0. */
    private static final float EXP_MIN = -87.33654f;

    /**
     * e[j] = exp(scale·x − shift) for j in [0, n), and returns their sum; shift must be at least max(scale·x), so that
     * every exponent is ≤ 0 (the row's max, or its log-sum-exp). e needs n rounded up to whole vectors: the last vector
     * is stored whole (its lanes beyond n hold junk).
     *
     * <p>exp is Cephes' expf (within about 1 ulp): z = k·ln 2 + r, |r| ≤ ln 2 / 2, a degree-6 polynomial for e^r, times
     * 2ᵏ made in the exponent bits. Not {@code lanewise(EXP)}: until C2 compiles a method, the Vector API runs Java code
     * that takes Math.exp per lane, and C2 then calls a vector library whose last bit can differ, so results would
     * depend on when the JIT got there, and a resumed training run would not match an uninterrupted one. Adds,
     * multiplies, fused multiply-adds and bit operations give the same bits either way. It is written out in this loop,
     * the only one that takes exps: C2 compiles a hot method of its size on its own and then no longer inlines it, and
     * a vector passed to a call is boxed. Constants are broadcast once, outside the loop, which keeps the loop's graph
     * small enough for C2 to inline every vector operation in it.
     */
    static float exps(MemorySegment x, int base, float scale, float shift, int n, MemorySegment e) {
        FloatVector log2e = FloatVector.broadcast(S, LOG2_E);
        FloatVector round = FloatVector.broadcast(S, ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector ln2lo = FloatVector.broadcast(S, -LN2_LO);
        FloatVector c5 = FloatVector.broadcast(S, 1.9875691500e-4f);
        FloatVector c4 = FloatVector.broadcast(S, 1.3981999507e-3f);
        FloatVector c3 = FloatVector.broadcast(S, 8.3334519073e-3f);
        FloatVector c2 = FloatVector.broadcast(S, 4.1665795894e-2f);
        FloatVector c1 = FloatVector.broadcast(S, 1.6666665459e-1f);
        FloatVector c0 = FloatVector.broadcast(S, 5.0000001201e-1f);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector zero = FloatVector.zero(S);
        IntVector bias = IntVector.broadcast(IntVector.SPECIES_PREFERRED, 127 - Float.floatToRawIntBits(ROUND));
        FloatVector sum = zero;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            FloatVector z = load(x, base + j, m).mul(scale).sub(shift);
            FloatVector t = z.fma(log2e, round); // k = round(z·log₂e) sits in t's low mantissa bits
            FloatVector k = t.sub(round);
            FloatVector r = k.fma(ln2lo, k.fma(ln2hi, z));
            FloatVector p = r.fma(c5, c4).fma(r, c3).fma(r, c2).fma(r, c1).fma(r, c0).fma(r.mul(r), r).add(one);
            FloatVector twoK = t.reinterpretAsInts().add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector v = p.mul(twoK).blend(zero, z.lt(EXP_MIN));
            store(v, e, j);
            sum = sum.add(v, m);
        }
        return addLanes(sum);
    }
}
