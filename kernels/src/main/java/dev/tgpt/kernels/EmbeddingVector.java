package dev.tgpt.kernels;

import static dev.tgpt.kernels.VectorRows.L;
import static dev.tgpt.kernels.VectorRows.load;
import static dev.tgpt.kernels.VectorRows.part;
import static dev.tgpt.kernels.VectorRows.store;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The JVM backend's embedding: {@link Embedding}'s helpers on whole vectors of channels, the same additions in the
 * same order, so each element gets the helpers' bits. The helpers' element-wise {@code FloatArray} accesses were not
 * vectorised by C2: 0.1–0.16× PyTorch's speed (bench/README.md).
 */
public final class EmbeddingVector {

    private EmbeddingVector() {
    }

    /** Row n of out [B·T, C]: wpe[t] + wte[token], or wpe[t] alone for an id outside [0, V). */
    public static void forwardRow(FloatArray out, IntArray tokens, FloatArray wte, FloatArray wpe, int n, int T, int C, int V) {
        int token = tokens.get(n);
        boolean known = token >= 0 && token < V;
        row(out.getSegment(), n * C, wpe.getSegment(), n % T * C, wte.getSegment(), known ? token * C : 0, known, C);
    }

    /** The channel blocks of {@link #tokenGradBlock}: one per vector of C channels. */
    public static int blocks(int C) {
        return (C + L - 1) / L;
    }

    /** dwte[v, c:c+L] += dout[n, c:c+L] (c = block·L) over the positions n of token v in order, for every token v. */
    public static void tokenGradBlock(FloatArray dwte, FloatArray dout, IntArray tokens, int block, int N, int C, int V) {
        MemorySegment dw = dwte.getSegment();
        MemorySegment dy = dout.getSegment();
        int c = block * L;
        VectorMask<Float> m = part(c, C);
        for (int n = 0; n < N; n++) {
            int token = tokens.get(n);
            if (token >= 0 && token < V) {
                int w = token * C + c;
                store(load(dw, w, m).add(load(dy, n * C + c, m)), dw, w, m);
            }
        }
    }

    /** dwpe[t, :] += Σ_b dout[b, t, :], the sum over b in order from 0, then added. */
    public static void positionGradRow(FloatArray dwpe, FloatArray dout, int t, int B, int T, int C) {
        MemorySegment dp = dwpe.getSegment();
        MemorySegment dy = dout.getSegment();
        for (int c = 0; c < C; c += L) {
            VectorMask<Float> m = part(c, C);
            FloatVector s = FloatVector.zero(VectorRows.S);
            for (int b = 0; b < B; b++) {
                s = s.add(load(dy, (b * T + t) * C + c, m));
            }
            store(load(dp, t * C + c, m).add(s), dp, t * C + c, m);
        }
    }

    /** out[o, :] = wpe[p, :] + wte[w, :], or wpe[p, :] alone when the token is unknown. */
    private static void row(MemorySegment out, int o, MemorySegment wpe, int p, MemorySegment wte, int w, boolean known, int C) {
        for (int c = 0; c < C; c += L) {
            VectorMask<Float> m = part(c, C);
            FloatVector e = load(wpe, p + c, m);
            store(known ? e.add(load(wte, w + c, m)) : e, out, o + c, m);
        }
    }
}
