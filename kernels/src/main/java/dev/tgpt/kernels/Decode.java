package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One decoding step for B rows, row b at position p = pos[b] of the sequence whose KV cache is slot s = slot[b]
 * (device arrays, so one compiled kernel serves every step; each row has its own position, so that sequences started
 * at different times share a step), with caches of [slots, NH, maxT, hs] for keys and for values. A decoding step
 * has a row per slot (slot[b] = b); a prefill has a row per prompt token, all of one slot at consecutive positions
 * (a row's attention reads the keys the rows before it wrote in the same launch).
 *
 * <pre>
 * embedding:  x[b] = wte[token[b]] + wpe[p]
 * cache:      kc[s,h,p] = k[b,h],  vc[s,h,p] = v[b,h]          (k, v: the qkv row's second and third thirds)
 * attention:  s_j = q[b,h]·kc[s,h,j]/√hs for j in [lo, p];  a = softmax(s);  out[b,h] = Σ_j a_j·vc[s,h,j]
 *             lo = 0, or p − window + 1 for a locally banded layer (window > 0)
 * </pre>
 *
 * This is row p of causal attention, so decoding a sequence one token at a time gives the logits a full forward pass
 * gives. Scores go to a [B, NH, maxT] scratch array in global memory: the context can exceed what local memory holds.
 */
public final class Decode {

    /** Work-items per (sequence, head) in attentionDecode; a power of two for the reductions. */
    public static final int GROUP = 64;

    private Decode() {
    }

    /** wte and wpe may be views of a slab: each comes as the slab and the view's offset in it (a plain array and 0 otherwise). */
    public static void embeddingDecode(FloatArray out, IntArray tokens, IntArray pos, FloatArray wte, int wteOff, FloatArray wpe, int wpeOff,
            int B, int C, int V) {
        for (@Parallel int i = 0; i < B * C; i++) {
            embeddingAt(out, tokens, pos, wte, wteOff, wpe, wpeOff, C, V, i);
        }
    }

    public static void embeddingAt(FloatArray out, IntArray tokens, IntArray pos, FloatArray wte, int wteOff, FloatArray wpe, int wpeOff,
            int C, int V, int i) {
        int b = i / C;
        int c = i % C;
        // an id outside the vocabulary reads row 0 rather than memory beyond wte; the engine rejects such ids first
        int token = TornadoMath.min(TornadoMath.max(tokens.get(b), 0), V - 1);
        out.set(i, wte.get(wteOff + token * C + c) + wpe.get(wpeOff + pos.get(b) * C + c));
    }

    public static void kvCacheWrite(FloatArray kcache, FloatArray vcache, FloatArray qkv, IntArray pos, IntArray slots, int B, int C, int NH,
            int maxT) {
        for (@Parallel int i = 0; i < B * C; i++) {
            cacheAt(kcache, vcache, qkv, pos, slots, C, NH, maxT, i);
        }
    }

    static void cacheAt(FloatArray kcache, FloatArray vcache, FloatArray qkv, IntArray pos, IntArray slots, int C, int NH, int maxT, int i) {
        int hs = C / NH;
        int b = i / C;
        int h = (i % C) / hs;
        int d = i % hs;
        int slot = ((slots.get(b) * NH + h) * maxT + pos.get(b)) * hs + d;
        kcache.set(slot, qkv.get(b * 3 * C + C + h * hs + d));
        vcache.set(slot, qkv.get(b * 3 * C + 2 * C + h * hs + d));
    }

    /** One work-group per (b, h); window 0 attends to every cached position. */
    public static void attentionDecode(KernelContext ctx, FloatArray out, FloatArray scores, FloatArray qkv, FloatArray kcache,
            FloatArray vcache, IntArray pos, IntArray slots, int C, int NH, int maxT, int window) {
        int bh = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int p = pos.get(bh / NH);
        int sh = slots.get(bh / NH) * NH + bh % NH;
        int lo = firstKey(p, window);
        float[] red = ctx.allocateFloatLocalArray(GROUP);
        red[lid] = scoreKeys(scores, qkv, kcache, bh, sh, lo, p, C, NH, maxT, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                red[lid] = TornadoMath.max(red[lid], red[lid + s]);
            }
        }
        ctx.localBarrier();
        float max = red[0];
        ctx.localBarrier();
        red[lid] = exponentiate(scores, bh, lo, p, max, maxT, lid, step);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                red[lid] += red[lid + s];
            }
        }
        ctx.localBarrier();
        float sum = red[0];
        // every work-item's exponentials are in global memory before any work-item reads them
        ctx.globalBarrier();
        weightValues(out, scores, vcache, bh, sh, lo, p, 1f / sum, C, NH, maxT, lid, step);
    }

    /** The first key a row at position p attends to. */
    static int firstKey(int p, int window) {
        return window > 0 ? TornadoMath.max(0, p - window + 1) : 0;
    }

    /** Scores of keys lo + from, lo + from + step, ... ≤ p of cache head sh into scores[bh, j]; returns their maximum. */
    static float scoreKeys(FloatArray scores, FloatArray qkv, FloatArray kcache, int bh, int sh, int lo, int p, int C, int NH, int maxT, int from,
            int step) {
        int hs = C / NH;
        int b = bh / NH;
        int h = bh % NH;
        int q = b * 3 * C + h * hs;
        float scale = 1f / TornadoMath.sqrt(hs);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = lo + from; j <= p; j += step) {
            int k = (sh * maxT + j) * hs;
            float s = 0f;
            for (int d = 0; d < hs; d++) {
                s += qkv.get(q + d) * kcache.get(k + d);
            }
            s *= scale;
            scores.set(bh * maxT + j, s);
            max = TornadoMath.max(max, s);
        }
        return max;
    }

    static float exponentiate(FloatArray scores, int bh, int lo, int p, float max, int maxT, int from, int step) {
        float sum = 0f;
        for (int j = lo + from; j <= p; j += step) {
            float e = TornadoMath.exp(scores.get(bh * maxT + j) - max);
            scores.set(bh * maxT + j, e);
            sum += e;
        }
        return sum;
    }

    /** out[b, h·hs + d] for d = from, from + step, ... < hs, from cache head sh's values. */
    static void weightValues(FloatArray out, FloatArray scores, FloatArray vcache, int bh, int sh, int lo, int p, float inv, int C, int NH, int maxT,
            int from, int step) {
        int hs = C / NH;
        int b = bh / NH;
        int h = bh % NH;
        for (int d = from; d < hs; d += step) {
            float acc = 0f;
            for (int j = lo; j <= p; j++) {
                acc += scores.get(bh * maxT + j) * vcache.get((sh * maxT + j) * hs + d);
            }
            out.set(b * C + h * hs + d, acc * inv);
        }
    }
}
