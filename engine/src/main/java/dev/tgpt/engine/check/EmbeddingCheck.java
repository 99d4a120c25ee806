package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.EmbeddingOps;
import dev.tgpt.kernels.EmbeddingReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Embedding against {@link EmbeddingReference}, with small vocabularies so that tokens repeat (dwte sums several
 * positions) and wpe longer than T (its rows past T must get no gradient). The last shape has ids outside [0, V)
 * (−1, V, the int extremes): they must read and write nothing (on the JVM and the emulator an out-of-bounds access
 * would throw) and count as a zero embedding. Tolerances: forward is one float32 add (≤ 1 ulp); allow 1e-6. Each
 * backward output is a float32 sum of at most ~10 terms here (repeats of a token, or B), within 10 ulp of the
 * largest; allow 1e-5.
 */
public final class EmbeddingCheck implements OpCheck {

    /** { B, T, C, V, with bad ids }. */
    static final int[][] SHAPES = { { 2, 5, 7, 11, 0 }, { 3, 33, 65, 257, 0 }, { 2, 64, 768, 50, 0 }, { 2, 9, 13, 17, 1 } };
    static final int[] BAD_IDS = { -1, Integer.MIN_VALUE, Integer.MAX_VALUE };

    @Override
    public String op() {
        return "embedding";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int B = s[0];
            int T = s[1];
            int C = s[2];
            int V = s[3];
            int maxT = T + 3;
            IntArray tokens = Checks.randomInts(r, B * T, V);
            if (s[4] != 0) {
                for (int k = 0; k < BAD_IDS.length; k++) {
                    tokens.set(1 + 4 * k, BAD_IDS[k]);
                }
                tokens.set(B * T - 1, V);
            }
            String shape = "B=" + B + " T=" + T + " C=" + C + " V=" + V + (s[4] != 0 ? " bad ids" : "");
            FloatArray wte = Checks.random(r, V * C, 1f);
            FloatArray wpe = Checks.random(r, maxT * C, 1f);
            FloatArray out = new FloatArray(B * T * C);
            Checks.run(backend, List.of(EmbeddingOps.forward(out, tokens, wte, wpe, B, T, C, V)), new Object[] { tokens, wte, wpe },
                    new Object[] { out });
            int[] ids = tokens.toHeapArray();
            results.add(new CheckResult(op(), "forward", shape,
                    Checks.error(out, EmbeddingReference.forward(ids, Checks.toDouble(wte), Checks.toDouble(wpe), B, T, C, V)), 1e-6));

            FloatArray dout = Checks.random(r, B * T * C, 1f);
            FloatArray dwte = Checks.random(r, V * C, 1f);
            FloatArray dwpe = Checks.random(r, maxT * C, 1f);
            double[] wantDwte = Checks.toDouble(dwte);
            double[] wantDwpe = Checks.toDouble(dwpe);
            Checks.run(backend, EmbeddingOps.backward(dwte, dwpe, dout, tokens, B, T, C, V), new Object[] { dwte, dwpe, dout, tokens },
                    new Object[] { dwte, dwpe });
            EmbeddingReference.backward(Checks.toDouble(dout), ids, wantDwte, wantDwpe, B, T, C, V);
            results.add(new CheckResult(op(), "backward", shape, Checks.worst(Checks.error(dwte, wantDwte), Checks.error(dwpe, wantDwpe)), 1e-5));
        }
        return results;
    }
}
