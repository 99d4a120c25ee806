package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.kernels.SparseAttention;
import dev.tgpt.kernels.SparseAttentionVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of {@link SparseAttention}: qkv [B, T, 3C] to out [B, T, C], NH heads, under one sparsity pattern; the JVM
 * backend runs {@link SparseAttentionVector}, one query row, or one key and head, per call.
 */
public final class SparseAttentionOps {

    private SparseAttentionOps() {
    }

    /**
     * Which keys each query attends to (see {@link SparseAttention}).
     *
     * @param kind    {@link SparseAttention#STRIDED}, {@link SparseAttention#FIXED} or {@link SparseAttention#BANDED}
     * @param span    l for STRIDED and FIXED, w for BANDED
     * @param summary c for FIXED (summary columns per block), else 0
     */
    public record Pattern(int kind, int span, int summary) {

        public Pattern {
            if (kind != SparseAttention.STRIDED && kind != SparseAttention.FIXED && kind != SparseAttention.BANDED) {
                throw new IllegalArgumentException("unknown sparse pattern kind " + kind);
            }
            if (span < 1) {
                throw new IllegalArgumentException("a sparse pattern's span must be at least 1, not " + span);
            }
            if (kind == SparseAttention.FIXED ? summary < 1 || summary > span : summary != 0) {
                throw new IllegalArgumentException("summary " + summary + " does not fit a pattern of kind " + kind + " and span " + span);
            }
        }

        /** Sparse Transformer's strided pattern: a window of l plus every l-th earlier position. */
        public static Pattern strided(int l) {
            return new Pattern(SparseAttention.STRIDED, l, 0);
        }

        /** Sparse Transformer's fixed pattern: the own block of l plus the last c positions of every earlier block. */
        public static Pattern fixed(int l, int c) {
            return new Pattern(SparseAttention.FIXED, l, c);
        }

        /** GPT-3's locally banded pattern: the last w positions. */
        public static Pattern banded(int w) {
            return new Pattern(SparseAttention.BANDED, w, 0);
        }

        /** K, the last dimension of att: the most keys a query of a sequence of T attends to. */
        public int maxKeys(int T) {
            return SparseAttention.maxKeys(kind, span, summary, T);
        }

        public int keyCount(int t) {
            return SparseAttention.keyCount(kind, span, summary, t);
        }

        public int key(int t, int j) {
            return SparseAttention.key(kind, span, summary, t, j);
        }

        public int slot(int t, int t2) {
            return SparseAttention.slot(kind, span, summary, t, t2);
        }

        public int queryCount(int t2, int T) {
            return SparseAttention.queryCount(kind, span, summary, t2, T);
        }

        public int query(int t2, int n) {
            return SparseAttention.query(kind, span, summary, t2, n);
        }

        /** The definition, independent of the enumeration. */
        public boolean allows(int t, int t2) {
            return SparseAttention.allows(kind, span, summary, t, t2);
        }

        /** (query, key) pairs a sequence of T visits: Σ_t keyCount(t). */
        public long pairs(int T) {
            long n = 0;
            for (int t = 0; t < T; t++) {
                n += keyCount(t);
            }
            return n;
        }

        @Override
        public String toString() {
            return switch (kind) {
                case SparseAttention.STRIDED -> "strided(l=" + span + ")";
                case SparseAttention.FIXED -> "fixed(l=" + span + ",c=" + summary + ")";
                default -> "banded(w=" + span + ")";
            };
        }
    }

    /** Writes out and att [B, NH, T, pattern.maxKeys(T)] (the probabilities, kept for the backward). */
    public static Launch forward(FloatArray out, FloatArray att, FloatArray qkv, int B, int T, int C, int NH, Pattern p) {
        int K = checkShapes(att, qkv, B, T, C, NH, p);
        return Launch.groups("sparseAttentionForward", B * NH * T, SparseAttention.GROUP,
                (g, id, ctx) -> g.task(id, SparseAttention::sparseAttentionForward, ctx, out, att, qkv, T, C, NH, K, p.kind(), p.span(),
                        p.summary()),
                jvm -> jvm.parallelFor(B * NH * T,
                        row -> SparseAttentionVector.forwardRow(out, att, qkv, row, T, C, NH, K, p.kind(), p.span(), p.summary())));
    }

    /** Adds to dqkv; datt is scratch of at least att's size (a model's one scratch serves dense and banded layers). */
    public static List<Launch> backward(FloatArray dqkv, FloatArray datt, FloatArray dout, FloatArray qkv, FloatArray att, int B, int T,
            int C, int NH, Pattern p) {
        int K = checkShapes(att, qkv, B, T, C, NH, p);
        if (datt.getSize() < att.getSize()) {
            throw new IllegalArgumentException("datt holds " + datt.getSize() + " floats, fewer than att's " + att.getSize());
        }
        return List.of(
                Launch.groups("sparseAttentionBackwardQueries", B * NH * T, SparseAttention.GROUP,
                        (g, id, ctx) -> g.task(id, SparseAttention::sparseAttentionBackwardQueries, ctx, dqkv, datt, dout, qkv, att, T, C, NH,
                                K, p.kind(), p.span(), p.summary()),
                        jvm -> jvm.parallelFor(B * NH * T, row -> SparseAttentionVector.backwardQueryRow(dqkv, datt, dout, qkv, att,
                                row, T, C, NH, K, p.kind(), p.span(), p.summary()))),
                Launch.parallel("sparseAttentionBackwardKeys",
                        (g, id) -> g.task(id, SparseAttention::sparseAttentionBackwardKeys, dqkv, datt, dout, qkv, att, B, T, C, NH, K,
                                p.kind(), p.span(), p.summary()),
                        jvm -> jvm.parallelFor(B * T * NH, i -> SparseAttentionVector.keyValueGrads(dqkv, datt, dout, qkv, att, i, T, C, NH, K,
                                p.kind(), p.span(), p.summary()))));
    }

    /** Returns K. */
    private static int checkShapes(FloatArray att, FloatArray qkv, int B, int T, int C, int NH, Pattern p) {
        if (C % NH != 0) {
            throw new IllegalArgumentException("C = " + C + " is not a multiple of NH = " + NH);
        }
        int K = p.maxKeys(T);
        // att may be larger: a buffer shared with dense layers (recomputation) uses its first B·NH·T·K floats
        if (qkv.getSize() != B * T * 3 * C || att.getSize() < B * NH * T * K) {
            throw new IllegalArgumentException("qkv must hold B·T·3C = " + B * T * 3 * C + " floats (has " + qkv.getSize()
                    + ") and att at least B·NH·T·K = " + B * NH * T * K + " (has " + att.getSize() + ") for " + p + " at T = " + T);
        }
        return K;
    }
}
