package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.SparseAttentionOps;
import dev.tgpt.engine.ops.SparseAttentionOps.Pattern;
import dev.tgpt.kernels.SparseAttentionReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Sparse attention against {@link SparseAttentionReference}, dense attention in double under the pattern's mask.
 * Shapes are small and odd: l not dividing T, head sizes that are not powers of two, and rows with more keys (K) and
 * heads with more channels than a work-group has work-items. Tolerances: float32 dot products over hs and sums over at
 * most K keys carry relative errors of a few 1e-7; forward allows 1e-5. Backward subtracts Σ att·dp from dp, which
 * cancels digits; it allows 1e-4 (the same margins as LayerNorm).
 */
public final class SparseAttentionCheck implements OpCheck {

    /** A pattern at a shape B, T, C, NH. */
    record Case(Pattern pattern, int B, int T, int C, int NH) {
    }

    static final List<Case> CASES = List.of(
            new Case(Pattern.strided(4), 2, 13, 12, 3),
            new Case(Pattern.strided(70), 1, 150, 160, 2),
            new Case(Pattern.fixed(5, 2), 2, 17, 12, 3),
            new Case(Pattern.fixed(8, 3), 1, 45, 18, 2),
            new Case(Pattern.banded(6), 2, 11, 12, 3),
            new Case(Pattern.banded(100), 1, 130, 14, 1));

    @Override
    public String op() {
        return "sparse-attention";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (Case c : CASES) {
            results.addAll(check(backend, c.pattern(), c.B(), c.T(), c.C(), c.NH(), r));
        }
        return results;
    }

    /** Forward and backward of one pattern at one shape, against the dense masked reference. */
    public static List<CheckResult> check(Backend backend, Pattern p, int B, int T, int C, int NH, Random r) {
        String shape = p + " B=" + B + " T=" + T + " C=" + C + " NH=" + NH;
        int K = p.maxKeys(T);
        FloatArray qkv = Checks.random(r, B * T * 3 * C, 1f);
        FloatArray out = new FloatArray(B * T * C);
        FloatArray att = new FloatArray(B * NH * T * K);
        Checks.run(backend, List.of(SparseAttentionOps.forward(out, att, qkv, B, T, C, NH, p)), new Object[] { qkv }, new Object[] { out, att });
        double[] wantOut = SparseAttentionReference.forward(Checks.toDouble(qkv), B, T, C, NH, p::allows);
        CheckResult forward = new CheckResult("sparse-attention", "forward", shape, Checks.error(out, wantOut), 1e-5);

        // dqkv starts non-zero: backward must add to it.
        FloatArray dout = Checks.random(r, B * T * C, 1f);
        FloatArray dqkv = Checks.random(r, B * T * 3 * C, 1f);
        FloatArray datt = new FloatArray(att.getSize());
        double[] wantDqkv = Checks.toDouble(dqkv);
        Checks.run(backend, SparseAttentionOps.backward(dqkv, datt, dout, qkv, att, B, T, C, NH, p), new Object[] { dqkv, dout, qkv, att },
                new Object[] { dqkv });
        SparseAttentionReference.backward(Checks.toDouble(dout), Checks.toDouble(qkv), wantDqkv, B, T, C, NH, p::allows);
        return List.of(forward, new CheckResult("sparse-attention", "backward", shape, Checks.error(dqkv, wantDqkv), 1e-4));
    }
}
