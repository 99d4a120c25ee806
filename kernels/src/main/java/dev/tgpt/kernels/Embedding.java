package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Token plus position embedding: tokens [B, T] ids into wte [V, C], positions into wpe [maxT, C].
 *
 * <pre>
 * forward:  out[b,t,:] = wte[token[b,t],:] + wpe[t,:]
 * backward: dwte[v,:] += Σ_{(b,t): token[b,t] = v} dout[b,t,:];   dwpe[t,:] += Σ_b dout[b,t,:]
 * </pre>
 *
 * Backward needs no atomics: each element dwte[v, c] has one owner, which adds the positions of token v in their
 * order, so the sum is reproducible (and the same on every backend). On a device the owner is the work-item of
 * (v mod {@link #CLASSES}, c), which scans all positions and takes the tokens of its class: C·CLASSES work-items
 * instead of C. On the JVM backend ({@link EmbeddingVector}) one task per vector of channels takes every token.
 * dwpe is summed by one work-item per (t, c). A token id outside [0, V) would index outside wte: the kernels treat
 * it as a zero token embedding with no gradient instead. That only keeps memory safe; the engine validates ids on
 * the host before it uploads them ({@code EmbeddingOps.validate}). wte, wpe, dwte and dwpe may be views of a slab:
 * each comes as the slab and the view's offset in it (a plain array and 0 otherwise).
 */
public final class Embedding {

    /** Token classes (v mod CLASSES) that split a channel's dwte work on a device. */
    public static final int CLASSES = 32;

    private Embedding() {
    }

    public static void embeddingForward(FloatArray out, IntArray tokens, FloatArray wte, int wteOff, FloatArray wpe, int wpeOff, int B,
            int T, int C, int V) {
        for (@Parallel int i = 0; i < B * T * C; i++) {
            forwardAt(out, tokens, wte, wteOff, wpe, wpeOff, i, T, C, V);
        }
    }

    /** dwte, one (token class, channel) per work-item. */
    public static void embeddingBackwardTokens(FloatArray dwte, int dwteOff, FloatArray dout, IntArray tokens, int B, int T, int C,
            int V) {
        for (@Parallel int i = 0; i < CLASSES * C; i++) {
            int k = i / C;
            tokenGradColumn(dwte, dwteOff, dout, tokens, i - k * C, k, CLASSES, B * T, C, V);
        }
    }

    /** dwpe, one (t, c) per work-item. */
    public static void embeddingBackwardPositions(FloatArray dwpe, int dwpeOff, FloatArray dout, int B, int T, int C) {
        for (@Parallel int i = 0; i < T * C; i++) {
            positionGradAt(dwpe, dwpeOff, dout, i, B, T, C);
        }
    }

    /** out at flat index i of [B, T, C]. */
    public static void forwardAt(FloatArray out, IntArray tokens, FloatArray wte, int wteOff, FloatArray wpe, int wpeOff, int i, int T,
            int C, int V) {
        int n = i / C;
        int c = i - n * C;
        int t = n % T;
        int token = tokens.get(n);
        float e = wpe.get(wpeOff + t * C + c);
        if (token >= 0 && token < V) {
            e += wte.get(wteOff + token * C + c);
        }
        out.set(i, e);
    }

    /** dwte[v, c] for the tokens v with v mod classes = k, over the N positions in order. */
    public static void tokenGradColumn(FloatArray dwte, int dwteOff, FloatArray dout, IntArray tokens, int c, int k, int classes, int N,
            int C, int V) {
        for (int n = 0; n < N; n++) {
            int token = tokens.get(n);
            if (token >= 0 && token < V && token % classes == k) {
                int w = dwteOff + token * C + c;
                dwte.set(w, dwte.get(w) + dout.get(n * C + c));
            }
        }
    }

    /** dwpe at flat index i = t·C + c. */
    public static void positionGradAt(FloatArray dwpe, int dwpeOff, FloatArray dout, int i, int B, int T, int C) {
        float s = 0f;
        for (int b = 0; b < B; b++) {
            s += dout.get(b * T * C + i);
        }
        dwpe.set(dwpeOff + i, dwpe.get(dwpeOff + i) + s);
    }
}
