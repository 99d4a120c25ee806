package dev.tgpt.engine.ops;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.Decode;
import dev.tgpt.kernels.DecodeVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Decode}: one step of B rows, row b at the position {@code pos[b]} of the sequence whose KV cache
 * is slot {@code slots[b]}.
 */
public final class DecodeOps {

    private DecodeOps() {
    }

    public static Launch embedding(FloatArray out, IntArray tokens, IntArray pos, FloatArray wte, FloatArray wpe, int B, int C, int V) {
        FloatArray te = Slab.baseOf(wte);
        int teOff = Slab.offsetOf(wte);
        FloatArray pe = Slab.baseOf(wpe);
        int peOff = Slab.offsetOf(wpe);
        return Positions.of("embeddingDecode", (g, id) -> g.task(id, Decode::embeddingDecode, out, tokens, pos, te, teOff, pe, peOff, B, C, V),
                B * C, i -> Decode.embeddingAt(out, tokens, pos, wte, 0, wpe, 0, C, V, i));
    }

    public static Launch cacheWrite(FloatArray kcache, FloatArray vcache, FloatArray qkv, IntArray pos, IntArray slots, int B, int C, int NH,
            int maxT) {
        return Launch.parallel("kvCacheWrite", (g, id) -> g.task(id, Decode::kvCacheWrite, kcache, vcache, qkv, pos, slots, B, C, NH, maxT),
                jvm -> jvm.parallelFor(B, b -> DecodeVector.cacheWrite(kcache, vcache, qkv, pos, slots, b, C, NH, maxT)));
    }

    /** @param scores scratch of B·NH·maxT floats; @param window 0, or a banded layer's band */
    public static Launch attention(FloatArray out, FloatArray scores, FloatArray qkv, FloatArray kcache, FloatArray vcache, IntArray pos,
            IntArray slots, int B, int C, int NH, int maxT, int window) {
        return Launch.groups("attentionDecode", B * NH, Decode.GROUP,
                (g, id, ctx) -> g.task(id, Decode::attentionDecode, ctx, out, scores, qkv, kcache, vcache, pos, slots, C, NH, maxT, window),
                jvm -> jvm.parallelFor(B * NH, bh -> DecodeVector.attention(out, qkv, kcache, vcache, pos, slots, C, NH, maxT, window, bh)));
    }
}
