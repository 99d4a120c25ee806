package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.S;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The JVM backend's {@link LayerNorm}: the same math on whole vectors along C. Forward and dx go row by row. dw and db
 * are sums over all rows; rather than walk each column down the rows (stride C, cache-hostile), {@link #backward}
 * splits the rows into {@link #chunks} fixed chunks and, in the same pass that computes dx, adds each row's dy·x̂ and
 * dy into its chunk's C-length partial sums; {@link #addPartials} then adds the partials in chunk order. The chunks
 * depend only on N, not on the thread count, so the result is the same bits on any number of threads.
 */
public final class LayerNormVector {

    /** The most row chunks of dw and db: enough to keep many threads busy, few enough that adding them up is cheap. */
    static final int CHUNKS = 64;

    private LayerNormVector() {
    }

    public static void forward(FloatArray out, FloatArray mean, FloatArray rstd, FloatArray inp, FloatArray weight, FloatArray bias,
            int row, int C) {
        MemorySegment x = inp.getSegment();
        int base = row * C;
        float mu = VectorRows.sum(x, base, C) / C;
        float rs = 1f / TornadoMath.sqrt(squaredDeviation(x, base, mu, C) / C + LayerNorm.EPS);
        normalize(out.getSegment(), x, weight.getSegment(), bias.getSegment(), base, mu, rs, C);
        mean.set(row, mu);
        rstd.set(row, rs);
    }

    private static float squaredDeviation(MemorySegment x, int base, float mu, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            FloatVector d = load(x, base + j, m).sub(mu);
            acc = acc.add(d.mul(d), m);
        }
        return VectorRows.addLanes(acc);
    }

    private static void normalize(MemorySegment y, MemorySegment x, MemorySegment w, MemorySegment b, int base, float mu, float rs, int n) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = part(j, n);
            store(load(x, base + j, m).sub(mu).mul(rs).mul(load(w, j, m)).add(load(b, j, m)), y, base + j, m);
        }
    }

    /** Row chunks of dw and db for N rows: at most {@link #CHUNKS}, each at least one row. */
    public static int chunks(int N) {
        return Math.min(N, CHUNKS);
    }

    /**
     * Adds dx for the rows of the given chunk and returns that chunk's partial sums over its rows: Σ dy·x̂ in [0, C),
     * Σ dy in [P, P + C), P = C rounded up to whole vectors (so that loads and stores there need no mask).
     */
    public static float[] backward(FloatArray dinp, FloatArray dout, FloatArray inp, FloatArray weight, FloatArray mean, FloatArray rstd,
            int chunk, int N, int C) {
        MemorySegment dx = dinp.getSegment();
        MemorySegment dy = dout.getSegment();
        MemorySegment x = inp.getSegment();
        MemorySegment w = weight.getSegment();
        float[] partial = new float[2 * padded(C)];
        int chunks = chunks(N);
        for (int row = N * chunk / chunks; row < N * (chunk + 1) / chunks; row++) {
            backwardRow(dx, dy, x, w, row * C, mean.get(row), rstd.get(row), C, partial);
        }
        return partial;
    }

    private static void backwardRow(MemorySegment dx, MemorySegment dy, MemorySegment x, MemorySegment w, int base, float mu, float rs,
            int C, float[] partial) {
        float meanG = gradSum(dy, w, base, C) / C;
        float meanGX = gradDotNormalized(dy, w, x, base, mu, rs, C) / C;
        addGradients(dx, dy, x, w, base, mu, rs, meanG, meanGX, C, partial);
    }

    /** Σ dy·w. */
    private static float gradSum(MemorySegment dy, MemorySegment w, int base, int C) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < C; j += L) {
            VectorMask<Float> m = part(j, C);
            acc = acc.add(load(dy, base + j, m).mul(load(w, j, m)));
        }
        return VectorRows.addLanes(acc);
    }

    /** Σ dy·w·x̂. */
    private static float gradDotNormalized(MemorySegment dy, MemorySegment w, MemorySegment x, int base, float mu, float rs, int C) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < C; j += L) {
            VectorMask<Float> m = part(j, C);
            acc = acc.add(load(dy, base + j, m).mul(load(w, j, m)).mul(load(x, base + j, m).sub(mu)).mul(rs));
        }
        return VectorRows.addLanes(acc);
    }

    /** dx += rs·(g − mean(g) − x̂·mean(g·x̂)), and the row's dy·x̂ and dy into the chunk's partial sums. */
    private static void addGradients(MemorySegment dx, MemorySegment dy, MemorySegment x, MemorySegment w, int base, float mu, float rs,
            float meanG, float meanGX, int C, float[] partial) {
        int P = padded(C);
        for (int j = 0; j < C; j += L) {
            VectorMask<Float> m = part(j, C);
            FloatVector d = load(dy, base + j, m); // 0 outside m, so the partial sums' padding stays 0
            FloatVector xhat = load(x, base + j, m).sub(mu).mul(rs);
            FloatVector g = d.mul(load(w, j, m));
            store(load(dx, base + j, m).add(g.sub(meanG).sub(xhat.mul(meanGX)).mul(rs)), dx, base + j, m);
            FloatVector.fromArray(S, partial, j).add(d.mul(xhat)).intoArray(partial, j);
            FloatVector.fromArray(S, partial, P + j).add(d).intoArray(partial, P + j);
        }
    }

    /**
     * Adds the chunks' partial sums from {@link #backward}, in chunk order, to dweight and dbias. Plain loops: this runs
     * once per launch, too seldom for C2 to compile Vector API code early, and the Vector API's Java fallback is slow.
     */
    public static void addPartials(FloatArray dweight, FloatArray dbias, float[][] partials, int C) {
        int P = padded(C);
        for (int c = 0; c < C; c++) {
            float dw = 0f;
            float db = 0f;
            for (float[] p : partials) {
                dw += p[c];
                db += p[P + c];
            }
            dweight.set(c, dweight.get(c) + dw);
            dbias.set(c, dbias.get(c) + db);
        }
    }

    private static int padded(int C) {
        return (C + L - 1) / L * L;
    }
}
