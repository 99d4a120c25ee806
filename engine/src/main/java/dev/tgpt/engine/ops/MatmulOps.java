package dev.tgpt.engine.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.Matmul;
import dev.tgpt.kernels.MatmulVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link Matmul} (on a TornadoVM device) and {@link MatmulVector} (on the JVM backend) for a linear
 * layer: weight [OC, C], N rows. Grids: one work-group per {@link Matmul#TILE}² block of the output, each work-item
 * computing {@link Matmul#WPT}² of it.
 */
public final class MatmulOps {

    private MatmulOps() {
    }

    /** out[N,OC] = inp[N,C]·weightᵀ + bias; bias may be null (no bias, as GPT's lm_head). */
    public static Launch forward(FloatArray out, FloatArray inp, FloatArray weight, FloatArray bias, int N, int C, int OC) {
        // The kernel takes an array either way; without a bias it is never read.
        FloatArray b = bias != null ? bias : new FloatArray(1);
        int hasBias = bias != null ? 1 : 0;
        FloatArray w = Slab.baseOf(weight);
        int wOff = Slab.offsetOf(weight);
        FloatArray bBase = Slab.baseOf(b);
        int bOff = Slab.offsetOf(b);
        return tiles("matmulForward", OC, N,
                (g, id, ctx) -> g.task(id, Matmul::matmulForward, ctx, out, inp, w, wOff, bBase, bOff, N, C, OC, hasBias),
                jvm -> MatmulVector.forward(jvm, out, inp, weight, bias, N, C, OC));
    }

    /** dinp[N,C] += dout[N,OC]·weight. */
    public static Launch backwardInput(FloatArray dinp, FloatArray dout, FloatArray weight, int N, int C, int OC) {
        FloatArray w = Slab.baseOf(weight);
        int wOff = Slab.offsetOf(weight);
        return tiles("matmulBackwardInput", C, N,
                (g, id, ctx) -> g.task(id, Matmul::matmulBackwardInput, ctx, dinp, dout, w, wOff, N, C, OC),
                jvm -> MatmulVector.backwardInput(jvm, dinp, dout, weight, N, C, OC));
    }

    /** dweight[OC,C] += doutᵀ·inp. */
    public static Launch backwardWeight(FloatArray dweight, FloatArray dout, FloatArray inp, int N, int C, int OC) {
        FloatArray dw = Slab.baseOf(dweight);
        int dwOff = Slab.offsetOf(dweight);
        return tiles("matmulBackwardWeight", C, OC,
                (g, id, ctx) -> g.task(id, Matmul::matmulBackwardWeight, ctx, dw, dwOff, dout, inp, N, C, OC),
                jvm -> MatmulVector.backwardWeight(jvm, dweight, dout, inp, N, C, OC));
    }

    /** dbias[OC] += Σ_n dout[n,·]. */
    public static Launch backwardBias(FloatArray dbias, FloatArray dout, int N, int OC) {
        FloatArray db = Slab.baseOf(dbias);
        int dbOff = Slab.offsetOf(dbias);
        return Launch.parallel("matmulBackwardBias", (g, id) -> g.task(id, Matmul::matmulBackwardBias, db, dbOff, dout, N, OC),
                jvm -> MatmulVector.backwardBias(jvm, dbias, dout, N, OC));
    }

    /** All of backward: adds to dinp, dweight and dbias (null: no bias). */
    public static List<Launch> backward(FloatArray dinp, FloatArray dweight, FloatArray dbias, FloatArray dout, FloatArray inp,
            FloatArray weight, int N, int C, int OC) {
        List<Launch> launches = new ArrayList<>();
        launches.add(backwardInput(dinp, dout, weight, N, C, OC));
        launches.add(backwardWeight(dweight, dout, inp, N, C, OC));
        if (dbias != null) {
            launches.add(backwardBias(dbias, dout, N, OC));
        }
        return launches;
    }

    /** A tiled launch over an output of cols × rows: GROUP² work-items per TILE² block. */
    static Launch tiles(String name, int cols, int rows, Launch.ContextTask task, Consumer<JvmBackend> jvm) {
        return Launch.tiles(name, ceilDiv(cols, Matmul.WPT), ceilDiv(rows, Matmul.WPT), Matmul.GROUP, Matmul.GROUP, task, jvm);
    }

    private static int ceilDiv(int n, int d) {
        return (n + d - 1) / d;
    }
}
