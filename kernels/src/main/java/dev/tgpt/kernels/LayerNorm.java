package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Layer normalisation over rows of C.
 *
 * <pre>
 * forward:  μ = mean(x), rstd = 1/√(var(x) + ε), x̂ = (x − μ)·rstd, y = x̂·w + b      (μ and rstd kept for backward)
 * backward: g = dy·w;  dx += rstd·(g − mean(g) − x̂·mean(g·x̂));  dw += Σ_rows dy·x̂;  db += Σ_rows dy
 * </pre>
 *
 * On a device, one work-group per row: its work-items stride over the row, then reduce in local memory. The JVM
 * backend runs {@link LayerNormVector}. w, b, dw and db may be views of a slab: each comes as the slab and the view's
 * offset in it (a plain array and 0 otherwise).
 */
public final class LayerNorm {

    public static final float EPS = 1e-5f;
    /** Work-items per row on a device; a power of two for the tree reduction. */
    public static final int GROUP = 256;

    private LayerNorm() {
    }

    public static void layerNormForward(KernelContext ctx, FloatArray out, FloatArray mean, FloatArray rstd, FloatArray inp,
            FloatArray weight, int weightOff, FloatArray bias, int biasOff, int C) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int base = row * C;
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        partial[lid] = sum(inp, base, lid, step, C);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        float mu = partial[0] / C;
        ctx.localBarrier(); // all have read partial[0] before it is reused
        partial[lid] = squaredDeviation(inp, base, mu, lid, step, C);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                partial[lid] += partial[lid + s];
            }
        }
        ctx.localBarrier();
        float rs = 1f / TornadoMath.sqrt(partial[0] / C + EPS);
        normalize(out, inp, weight, weightOff, bias, biasOff, base, mu, rs, lid, step, C);
        if (lid == 0) {
            mean.set(row, mu);
            rstd.set(row, rs);
        }
    }

    /** dx for one row per work-group; dw and db come from {@link #layerNormBackwardWeights}. */
    public static void layerNormBackward(KernelContext ctx, FloatArray dinp, FloatArray dout, FloatArray inp, FloatArray weight,
            int weightOff, FloatArray mean, FloatArray rstd, int C) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int step = ctx.localGroupSizeX;
        int base = row * C;
        float mu = mean.get(row);
        float rs = rstd.get(row);
        float[] sumG = ctx.allocateFloatLocalArray(GROUP);
        float[] sumGX = ctx.allocateFloatLocalArray(GROUP);
        sumG[lid] = gradSum(dout, weight, weightOff, base, lid, step, C);
        sumGX[lid] = gradDotNormalized(dout, weight, weightOff, inp, base, mu, rs, lid, step, C);
        for (int s = step / 2; s > 0; s /= 2) {
            ctx.localBarrier();
            if (lid < s) {
                sumG[lid] += sumG[lid + s];
                sumGX[lid] += sumGX[lid + s];
            }
        }
        ctx.localBarrier();
        backwardInput(dinp, dout, inp, weight, weightOff, base, mu, rs, sumG[0] / C, sumGX[0] / C, lid, step, C);
    }

    /** dw and db, one channel per work-item, summed over the N rows in a fixed order (no atomics, reproducible). */
    public static void layerNormBackwardWeights(FloatArray dweight, int dweightOff, FloatArray dbias, int dbiasOff, FloatArray dout,
            FloatArray inp, FloatArray mean, FloatArray rstd, int N, int C) {
        for (@Parallel int c = 0; c < C; c++) {
            weightGradColumn(dweight, dweightOff, dbias, dbiasOff, dout, inp, mean, rstd, c, N, C);
        }
    }

    /**
     * As {@link #layerNormBackwardWeights}, for dw and db in one array (a slab of gradients). TornadoVM 5.2 never
     * finishes scheduling a task that writes an array it is also given as another argument (the second argument
     * becomes a read that waits for the task itself), so the array is passed once.
     */
    public static void layerNormBackwardWeightsOne(FloatArray grads, int dweightOff, int dbiasOff, FloatArray dout, FloatArray inp,
            FloatArray mean, FloatArray rstd, int N, int C) {
        for (@Parallel int c = 0; c < C; c++) {
            weightGradColumn(grads, dweightOff, grads, dbiasOff, dout, inp, mean, rstd, c, N, C);
        }
    }

    public static void weightGradColumn(FloatArray dweight, int dweightOff, FloatArray dbias, int dbiasOff, FloatArray dout,
            FloatArray inp, FloatArray mean, FloatArray rstd, int c, int N, int C) {
        float dw = 0f;
        float db = 0f;
        for (int n = 0; n < N; n++) {
            float dy = dout.get(n * C + c);
            dw += dy * (inp.get(n * C + c) - mean.get(n)) * rstd.get(n);
            db += dy;
        }
        dweight.set(dweightOff + c, dweight.get(dweightOff + c) + dw);
        dbias.set(dbiasOff + c, dbias.get(dbiasOff + c) + db);
    }

    static float sum(FloatArray x, int base, int from, int step, int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            s += x.get(base + j);
        }
        return s;
    }

    static float squaredDeviation(FloatArray x, int base, float mu, int from, int step, int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            float d = x.get(base + j) - mu;
            s += d * d;
        }
        return s;
    }

    static void normalize(FloatArray out, FloatArray x, FloatArray w, int wOff, FloatArray b, int bOff, int base, float mu, float rs,
            int from, int step, int n) {
        for (int j = from; j < n; j += step) {
            out.set(base + j, (x.get(base + j) - mu) * rs * w.get(wOff + j) + b.get(bOff + j));
        }
    }

    static float gradSum(FloatArray dout, FloatArray w, int wOff, int base, int from, int step, int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            s += dout.get(base + j) * w.get(wOff + j);
        }
        return s;
    }

    static float gradDotNormalized(FloatArray dout, FloatArray w, int wOff, FloatArray x, int base, float mu, float rs, int from, int step,
            int n) {
        float s = 0f;
        for (int j = from; j < n; j += step) {
            s += dout.get(base + j) * w.get(wOff + j) * (x.get(base + j) - mu) * rs;
        }
        return s;
    }

    static void backwardInput(FloatArray dinp, FloatArray dout, FloatArray x, FloatArray w, int wOff, int base, float mu, float rs,
            float meanG, float meanGX, int from, int step, int n) {
        for (int j = from; j < n; j += step) {
            float xhat = (x.get(base + j) - mu) * rs;
            float g = dout.get(base + j) * w.get(wOff + j);
            dinp.set(base + j, dinp.get(base + j) + rs * (g - meanG - xhat * meanGX));
        }
    }
}
