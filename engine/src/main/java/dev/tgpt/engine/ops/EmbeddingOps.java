package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.UserError;
import dev.tgpt.kernels.Embedding;
import dev.tgpt.kernels.EmbeddingVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Launches of {@link Embedding} (on the JVM backend, its twin {@link EmbeddingVector}): tokens [B, T], wte [V, C], wpe [≥T, C]. Ids outside [0, V) must be refused on the
 * host before upload; the kernels only guard memory against them.
 */
public final class EmbeddingOps {

    private EmbeddingOps() {
    }

    public static Launch forward(FloatArray out, IntArray tokens, FloatArray wte, FloatArray wpe, int B, int T, int C, int V) {
        FloatArray te = Slab.baseOf(wte);
        int teOff = Slab.offsetOf(wte);
        FloatArray pe = Slab.baseOf(wpe);
        int peOff = Slab.offsetOf(wpe);
        return Launch.parallel("embeddingForward", (g, id) -> g.task(id, Embedding::embeddingForward, out, tokens, te, teOff, pe, peOff, B, T, C, V),
                jvm -> jvm.parallelFor(B * T, n -> EmbeddingVector.forwardRow(out, tokens, wte, wpe, n, T, C, V)));
    }

    /** Adds to dwte and dwpe. */
    public static List<Launch> backward(FloatArray dwte, FloatArray dwpe, FloatArray dout, IntArray tokens, int B, int T, int C, int V) {
        FloatArray dte = Slab.baseOf(dwte);
        int dteOff = Slab.offsetOf(dwte);
        FloatArray dpe = Slab.baseOf(dwpe);
        int dpeOff = Slab.offsetOf(dwpe);
        return List.of(
                Launch.parallel("embeddingBackwardTokens",
                        (g, id) -> g.task(id, Embedding::embeddingBackwardTokens, dte, dteOff, dout, tokens, B, T, C, V),
                        jvm -> jvm.parallelFor(EmbeddingVector.blocks(C), k -> EmbeddingVector.tokenGradBlock(dwte, dout, tokens, k, B * T, C, V))),
                Launch.parallel("embeddingBackwardPositions", (g, id) -> g.task(id, Embedding::embeddingBackwardPositions, dpe, dpeOff, dout, B, T, C),
                        jvm -> jvm.parallelFor(T, t -> EmbeddingVector.positionGradRow(dwpe, dout, t, B, T, C))));
    }

    /** Throws unless every id is in [0, V): what the engine calls before it uploads a batch. */
    public static void validate(IntArray tokens, int V) {
        for (int i = 0; i < tokens.getSize(); i++) {
            int id = tokens.get(i);
            if (id < 0 || id >= V) {
                throw new UserError("token id " + id + " at position " + i + " is outside the vocabulary [0, " + V + ")");
            }
        }
    }
}
