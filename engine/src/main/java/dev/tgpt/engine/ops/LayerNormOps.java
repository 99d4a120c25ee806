package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.LayerNorm;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Launches of {@link LayerNorm} over N rows of C. */
public final class LayerNormOps {

    private LayerNormOps() {
    }

    public static Launch forward(FloatArray out, FloatArray mean, FloatArray rstd, FloatArray inp, FloatArray weight, FloatArray bias,
            int N, int C) {
        return Launch.groups("layerNormForward", N, LayerNorm.GROUP,
                (g, id, ctx) -> g.task(id, LayerNorm::layerNormForward, ctx, out, mean, rstd, inp, weight, bias, C),
                jvm -> jvm.parallelFor(N, row -> LayerNorm.layerNormForwardRow(out, mean, rstd, inp, weight, bias, row, C)));
    }

    /** Adds to dinp, dweight and dbias. */
    public static List<Launch> backward(FloatArray dinp, FloatArray dweight, FloatArray dbias, FloatArray dout, FloatArray inp,
            FloatArray weight, FloatArray mean, FloatArray rstd, int N, int C) {
        return List.of(
                Launch.groups("layerNormBackward", N, LayerNorm.GROUP,
                        (g, id, ctx) -> g.task(id, LayerNorm::layerNormBackward, ctx, dinp, dout, inp, weight, mean, rstd, C),
                        jvm -> jvm.parallelFor(N, row -> LayerNorm.layerNormBackwardRow(dinp, dout, inp, weight, mean, rstd, row, C))),
                Launch.parallel("layerNormBackwardWeights",
                        (g, id) -> g.task(id, LayerNorm::layerNormBackwardWeights, dweight, dbias, dout, inp, mean, rstd, N, C),
                        jvm -> jvm.parallelFor(C, c -> LayerNorm.weightGradColumn(dweight, dbias, dout, inp, mean, rstd, c, N, C))));
    }
}
