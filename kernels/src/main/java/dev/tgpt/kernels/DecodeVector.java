package dev.tgpt.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The JVM backend's {@link Decode}: the cache write as a copy of each head's key and value, and a row's attention with
 * vector dot products. The kernel's per-element helpers, called from Java, added a float at a time: GPT-2's attention
 * took 0.50 ms a layer over a 1,024-token generation, against 0.13 ms this way (timers around each launch).
 */
public final class DecodeVector {

    private static final int L = VectorRows.L;

    private DecodeVector() {
    }

    /** {@link Decode#kvCacheWrite} for row b: its NH keys and values, hs floats each, into its slot at its position. */
    public static void cacheWrite(FloatArray kcache, FloatArray vcache, FloatArray qkv, IntArray pos, IntArray slots, int b, int C, int NH,
            int maxT) {
        int hs = C / NH;
        MemorySegment x = qkv.getSegment();
        for (int h = 0; h < NH; h++) {
            long slot = ((long) (slots.get(b) * NH + h) * maxT + pos.get(b)) * hs;
            long key = (long) b * 3 * C + C + (long) h * hs;
            MemorySegment.copy(x, 4 * key, kcache.getSegment(), 4 * slot, 4L * hs);
            MemorySegment.copy(x, 4 * (key + C), vcache.getSegment(), 4 * slot, 4L * hs);
        }
    }

    /**
     * {@link Decode#attentionDecode}'s work for bh = b·NH + h: the scores and their exps in this thread's scratch (the
     * scores array is the device kernel's), the values summed a vector of dimensions at a time.
     */
    public static void attention(FloatArray out, FloatArray qkv, FloatArray kcache, FloatArray vcache, IntArray pos, IntArray slots, int C,
            int NH, int maxT, int window, int bh) {
        int hs = C / NH;
        int b = bh / NH;
        int h = bh % NH;
        int p = pos.get(b);
        int lo = Decode.firstKey(p, window);
        int n = p - lo + 1;
        int first = ((slots.get(b) * NH + h) * maxT + lo) * hs;
        MemorySegment x = qkv.getSegment();
        MemorySegment k = kcache.getSegment();
        int q = b * 3 * C + h * hs;
        int padded = (n + L - 1) / L * L;
        MemorySegment scratch = VectorRows.scratch(2 * padded);
        MemorySegment s = scratch.asSlice(0, 4L * padded);
        MemorySegment e = scratch.asSlice(4L * padded);
        for (int j = 0; j < n; j++) {
            s.setAtIndex(JAVA_FLOAT, j, dot(x, q, k, first + j * hs, hs));
        }
        float scale = 1f / (float) Math.sqrt(hs);
        float max = VectorRows.scaledMax(s, 0, scale, n);
        float inv = 1f / VectorRows.exps(s, 0, scale, max, n, e);
        weighValues(out.getSegment(), b * C + h * hs, e, n, vcache.getSegment(), first, hs, inv);
    }

    /**
     * Σ_d x[a + d]·y[c + d] over d < n: whole vectors, then a masked one for the rest (masked loads throughout took
     * twice as long), the lanes added by halves. Not {@code MatmulVector.dot}: its four sums and scalar tail put GPT-1's
     * post-LN test model outside SamplerTest's agreement with the full pass (1.4 × its bound; this order: 0.58 ×).
     */
    private static float dot(MemorySegment x, int a, MemorySegment y, int c, int n) {
        FloatVector acc = FloatVector.zero(VectorRows.S);
        int d = 0;
        for (; d + L <= n; d += L) {
            acc = VectorRows.load(x, a + d).fma(VectorRows.load(y, c + d), acc);
        }
        if (d < n) {
            VectorMask<Float> m = VectorRows.part(d, n);
            acc = VectorRows.load(x, a + d, m).fma(VectorRows.load(y, c + d, m), acc);
        }
        return VectorRows.addHalves(acc);
    }

    /**
     * out[at + d] = Σ_j (w[j]·inv)·v[first + j·hs + d] for d < hs: each weight normalised before its product, as the
     * full forward pass's softmax is (logits then agree with it as closely as they did with the kernel's helpers);
     * four whole vectors of dimensions at a time (all of GPT-2's 64), each cached value row read once for them; then
     * one vector at a time, the last one masked.
     */
    private static void weighValues(MemorySegment out, int at, MemorySegment w, int n, MemorySegment v, int first, int hs, float inv) {
        int d = 0;
        for (; d + 4 * L <= hs; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(VectorRows.S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int j = 0; j < n; j++) {
                FloatVector wj = FloatVector.broadcast(VectorRows.S, w.getAtIndex(JAVA_FLOAT, j) * inv);
                int row = first + j * hs + d;
                a0 = VectorRows.load(v, row).fma(wj, a0);
                a1 = VectorRows.load(v, row + L).fma(wj, a1);
                a2 = VectorRows.load(v, row + 2 * L).fma(wj, a2);
                a3 = VectorRows.load(v, row + 3 * L).fma(wj, a3);
            }
            VectorRows.store(a0, out, at + d);
            VectorRows.store(a1, out, at + d + L);
            VectorRows.store(a2, out, at + d + 2 * L);
            VectorRows.store(a3, out, at + d + 3 * L);
        }
        for (; d < hs; d += L) {
            VectorMask<Float> m = VectorRows.part(d, hs);
            FloatVector acc = FloatVector.zero(VectorRows.S);
            for (int j = 0; j < n; j++) {
                acc = VectorRows.load(v, first + j * hs + d, m).fma(FloatVector.broadcast(VectorRows.S, w.getAtIndex(JAVA_FLOAT, j) * inv), acc);
            }
            VectorRows.store(acc, out, at + d, m);
        }
    }
}
