package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.ops.DecodeOps;
import dev.tgpt.kernels.AttentionReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Decoding attention with a KV cache, one position at a time, against {@link AttentionReference}: position p's output
 * must be row p of causal (or, with a window, locally banded) attention over the whole sequence. One compiled program
 * runs every position, each sequence's position coming from a device array: sequence b starts b steps after
 * sequence 0 (as a server's requests join a running batch), so one step holds sequences at different positions.
 * Decoding has no backward. Tolerance 1e-5, as dense
 * attention's forward: float32 dot products of hs terms and a softmax over at most T.
 */
public final class DecodeCheck implements OpCheck {

    /** B, T, C, NH, window (0: dense). */
    static final int[][] SHAPES = { { 2, 9, 12, 3, 0 }, { 1, 33, 40, 5, 0 }, { 2, 20, 24, 2, 6 } };

    @Override
    public String op() {
        return "decode-attention";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(11);
        for (int[] s : SHAPES) {
            int B = s[0], T = s[1], C = s[2], NH = s[3], window = s[4];
            FloatArray qkv = Checks.random(r, B * T * 3 * C, 1f);
            double[] want = AttentionReference.forward(Checks.toDouble(qkv), new double[B * NH * T * T], B, T, C, NH,
                    (t, t2) -> t2 <= t && (window == 0 || t - t2 < window));
            FloatArray row = new FloatArray(B * 3 * C);
            FloatArray kc = new FloatArray(B * C * T);
            FloatArray vc = new FloatArray(B * C * T);
            FloatArray scores = new FloatArray(B * NH * T);
            FloatArray out = new FloatArray(B * C);
            IntArray pos = new IntArray(B);
            Program p = new Program("decode").state(kc, vc, scores).inputs(row, pos).outputs(out)
                    .add(DecodeOps.cacheWrite(kc, vc, row, pos, B, C, NH, T))
                    .add(DecodeOps.attention(out, scores, row, kc, vc, pos, B, C, NH, T, window));
            FloatArray got = new FloatArray(B * T * C);
            try (Session session = backend.open(p)) {
                for (int step = 0; step < T + B - 1; step++) {
                    // sequence b is at position step − b; before its start and after its end it rewrites a cache slot
                    // it has not read yet (0) or will not read again (T − 1)
                    for (int b = 0; b < B; b++) {
                        int t = Math.clamp(step - b, 0, T - 1);
                        for (int i = 0; i < 3 * C; i++) {
                            row.set(b * 3 * C + i, qkv.get((b * T + t) * 3 * C + i));
                        }
                        pos.set(b, t);
                    }
                    session.run(p);
                    for (int b = 0; b < B; b++) {
                        int t = step - b;
                        for (int c = 0; t >= 0 && t < T && c < C; c++) {
                            got.set((b * T + t) * C + c, out.get(b * C + c));
                        }
                    }
                }
            }
            String shape = "B=" + B + " T=" + T + " C=" + C + " NH=" + NH + (window > 0 ? " band=" + window : "");
            results.add(new CheckResult(op(), "forward", shape, Checks.error(got, want), 1e-5));
        }
        return results;
    }
}
