package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.AttentionOps;
import dev.tgpt.kernels.AttentionReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Causal self-attention against {@link AttentionReference}, at head sizes below, at and above a vector's width and
 * not a power of two (hs = 4, 8, 48), T not a multiple of 4, 8 or 16 (7, 33), and several heads and sequences, all
 * small enough for tornado-jvm's emulator. Tolerances: each float32 value here is a dot of hs terms, an exp, or a sum
 * of up to T terms, each with a relative error of about 2⁻²⁴·√n; the softmax backward also subtracts Σ att·datt from
 * datt. Measured errors are below 5e-7 in both directions (JVM backend, emulator, PoCL); both allow 1e-5, which
 * leaves room for a device's own exp, while a dropped term or a wrong index errs by orders of magnitude more.
 */
public final class AttentionCheck implements OpCheck {

    /** B, T, C, NH. */
    static final int[][] SHAPES = { { 2, 7, 12, 3 }, { 1, 33, 40, 5 }, { 2, 64, 96, 2 } };

    @Override
    public String op() {
        return "attention";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] s : SHAPES) {
            int B = s[0];
            int T = s[1];
            int C = s[2];
            int NH = s[3];
            String shape = "B=" + B + " T=" + T + " C=" + C + " NH=" + NH;
            FloatArray qkv = Checks.random(r, B * T * 3 * C, 2f);
            FloatArray out = new FloatArray(B * T * C);
            FloatArray att = new FloatArray(B * NH * T * T);
            Checks.run(backend, List.of(AttentionOps.forward(out, att, qkv, B, T, C, NH)), new Object[] { qkv }, new Object[] { out, att });
            double[] wantAtt = new double[B * NH * T * T];
            double[] wantOut = AttentionReference.forward(Checks.toDouble(qkv), wantAtt, B, T, C, NH);
            results.add(new CheckResult(op(), "forward", shape, Checks.worst(Checks.error(out, wantOut), Checks.error(att, wantAtt)),
                    1e-5));

            // The gradient starts non-zero: backward must add to it. dpreatt is scratch, on the device only.
            FloatArray dout = Checks.random(r, B * T * C, 1f);
            FloatArray dqkv = Checks.random(r, B * T * 3 * C, 1f);
            FloatArray dpreatt = new FloatArray(B * NH * T * T);
            double[] want = Checks.toDouble(dqkv);
            Checks.run(backend, AttentionOps.backward(dqkv, dpreatt, dout, qkv, att, B, T, C, NH), new Object[] { dqkv, dout, qkv, att },
                    new Object[] { dqkv });
            AttentionReference.backward(Checks.toDouble(dout), Checks.toDouble(qkv), want, B, T, C, NH);
            results.add(new CheckResult(op(), "backward", shape, Checks.error(dqkv, want), 1e-5));
        }
        return results;
    }
}
