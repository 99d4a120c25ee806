package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.Attention;
import dev.tgpt.kernels.AttentionVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link Attention} over qkv [B, T, 3C] with NH heads: one query row (b, h, t) per work-group on a
 * device; one head (b, h) per {@link AttentionVector} call on the JVM backend.
 */
public final class AttentionOps {

    private AttentionOps() {
    }

    /** out [B, T, C] and att [B, NH, T, T] (kept for the backward). */
    public static Launch forward(FloatArray out, FloatArray att, FloatArray qkv, int B, int T, int C, int NH) {
        int rows = rows(B, T, C, NH);
        return Launch.groups("attentionForward", rows, Attention.GROUP,
                (g, id, ctx) -> g.task(id, Attention::attentionForward, ctx, out, att, qkv, T, C, NH),
                jvm -> jvm.parallelFor(B * NH, bh -> AttentionVector.forward(out, att, qkv, bh, T, C, NH)));
    }

    /**
     * Adds to dqkv. dpreatt is scratch of att's size [B, NH, T, T]: the query-row launch fills it, the key-row launch
     * reads its columns, so the second must follow the first.
     */
    public static List<Launch> backward(FloatArray dqkv, FloatArray dpreatt, FloatArray dout, FloatArray qkv, FloatArray att, int B, int T,
            int C, int NH) {
        int rows = rows(B, T, C, NH);
        return List.of(
                Launch.groups("attentionBackwardQuery", rows, Attention.GROUP,
                        (g, id, ctx) -> g.task(id, Attention::attentionBackwardQuery, ctx, dqkv, dpreatt, dout, qkv, att, T, C, NH),
                        jvm -> jvm.parallelFor(B * NH, bh -> AttentionVector.backwardQuery(dqkv, dpreatt, dout, qkv, att, bh, T, C, NH))),
                Launch.parallel("attentionBackwardKeyValue",
                        (g, id) -> g.task(id, Attention::attentionBackwardKeyValue, dqkv, dpreatt, dout, qkv, att, rows, T, C, NH),
                        jvm -> jvm.parallelFor(B * NH,
                                bh -> AttentionVector.backwardKeyValue(dqkv, dpreatt, dout, qkv, att, bh, T, C, NH))));
    }

    /** B·NH·T query rows; C must split into NH heads. */
    private static int rows(int B, int T, int C, int NH) {
        if (NH < 1 || C % NH != 0) {
            throw new IllegalArgumentException("C = " + C + " does not split into NH = " + NH + " heads");
        }
        return B * NH * T;
    }
}
