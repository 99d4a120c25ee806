package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.LayerNorm;
import dev.tgpt.kernels.LayerNormVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link LayerNorm} over N rows of C. */
public final class LayerNormOps {

    private LayerNormOps() {
    }

    public static Launch forward(FloatArray out, FloatArray mean, FloatArray rstd, FloatArray inp, FloatArray weight, FloatArray bias,
            int N, int C) {
        FloatArray w = Slab.baseOf(weight);
        int wOff = Slab.offsetOf(weight);
        FloatArray b = Slab.baseOf(bias);
        int bOff = Slab.offsetOf(bias);
        return Launch.groups("layerNormForward", N, LayerNorm.GROUP,
                (g, id, ctx) -> g.task(id, LayerNorm::layerNormForward, ctx, out, mean, rstd, inp, w, wOff, b, bOff, C),
                jvm -> jvm.parallelFor(N, row -> LayerNormVector.forward(out, mean, rstd, inp, weight, bias, row, C)));
    }

    /** Adds to dinp only: the backward of a frozen layer norm (its weights get no gradient). */
    public static Launch backwardInput(FloatArray dinp, FloatArray dout, FloatArray inp, FloatArray weight, FloatArray mean, FloatArray rstd, int N,
            int C) {
        return inputLaunch(dinp, dout, inp, weight, mean, rstd, N, C, new float[LayerNormVector.chunks(N)][]);
    }

    /**
     * The launch that adds to dinp. On the JVM backend it also sums dw and db over fixed chunks of rows into
     * {@code partials} (in the same pass over dout and inp as dx), which the weights' launch adds up (a frozen norm
     * drops them).
     */
    private static Launch inputLaunch(FloatArray dinp, FloatArray dout, FloatArray inp, FloatArray weight, FloatArray mean, FloatArray rstd, int N,
            int C, float[][] partials) {
        FloatArray w = Slab.baseOf(weight);
        int wOff = Slab.offsetOf(weight);
        return Launch.groups("layerNormBackward", N, LayerNorm.GROUP,
                (g, id, ctx) -> g.task(id, LayerNorm::layerNormBackward, ctx, dinp, dout, inp, w, wOff, mean, rstd, C),
                jvm -> jvm.parallelFor(partials.length, k -> partials[k] = LayerNormVector.backward(dinp, dout, inp, weight, mean, rstd, k, N, C)));
    }

    /** Adds to dinp, dweight and dbias: the input's launch, then the weights' (which adds up the JVM's partial sums). */
    public static List<Launch> backward(FloatArray dinp, FloatArray dweight, FloatArray dbias, FloatArray dout, FloatArray inp,
            FloatArray weight, FloatArray mean, FloatArray rstd, int N, int C) {
        float[][] partials = new float[LayerNormVector.chunks(N)][];
        FloatArray dw = Slab.baseOf(dweight);
        int dwOff = Slab.offsetOf(dweight);
        FloatArray db = Slab.baseOf(dbias);
        int dbOff = Slab.offsetOf(dbias);
        return List.of(inputLaunch(dinp, dout, inp, weight, mean, rstd, N, C, partials),
                Launch.parallel("layerNormBackwardWeights", (g, id) -> {
                    if (dw == db) {
                        g.task(id, LayerNorm::layerNormBackwardWeightsOne, dw, dwOff, dbOff, dout, inp, mean, rstd, N, C);
                    } else {
                        g.task(id, LayerNorm::layerNormBackwardWeights, dw, dwOff, db, dbOff, dout, inp, mean, rstd, N, C);
                    }
                }, jvm -> LayerNormVector.addPartials(dweight, dbias, partials, C)));
    }
}
