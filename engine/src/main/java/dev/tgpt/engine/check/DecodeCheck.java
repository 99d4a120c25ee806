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
 * sequence 0 (as a server's requests join a running batch), so one step holds sequences at different positions, and
 * keeps its cache in slot B − 1 − b (a row's slot is a device array too). Then a prefill: each sequence's T positions
 * as T rows of one launch into its slot, each row reading the keys the rows before it wrote. Decoding has no
 * backward. Tolerance 1e-5, as dense attention's forward: float32 dot products of hs terms and a softmax over at
 * most T.
 */
public final class DecodeCheck implements OpCheck {

    /** B, T, C, NH, window (0: dense); heads of 72 take the JVM twin past 4 vectors of 16 dimensions. */
    static final int[][] SHAPES = { { 2, 9, 12, 3, 0 }, { 1, 33, 40, 5, 0 }, { 2, 20, 24, 2, 6 }, { 2, 40, 144, 2, 0 } };

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
            IntArray slots = new IntArray(B);
            for (int b = 0; b < B; b++) {
                slots.set(b, B - 1 - b);
            }
            Program p = new Program("decode").state(kc, vc, scores, slots).inputs(row, pos).outputs(out)
                    .add(DecodeOps.cacheWrite(kc, vc, row, pos, slots, B, C, NH, T))
                    .add(DecodeOps.attention(out, scores, row, kc, vc, pos, slots, B, C, NH, T, window));
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
            results.add(new CheckResult(op(), "prefill", shape, Checks.error(prefill(backend, qkv, B, T, C, NH, window), want), 1e-5));
        }
        return results;
    }

    /** Each sequence's T positions as the T rows of one launch into its own cache slot; the outputs of all rows. */
    private static FloatArray prefill(Backend backend, FloatArray qkv, int B, int T, int C, int NH, int window) {
        FloatArray rows = new FloatArray(T * 3 * C);
        FloatArray kc = new FloatArray(B * C * T);
        FloatArray vc = new FloatArray(B * C * T);
        FloatArray scores = new FloatArray(T * NH * T);
        FloatArray out = new FloatArray(T * C);
        IntArray pos = new IntArray(T);
        IntArray slots = new IntArray(T);
        Program p = new Program("prefill").state(kc, vc, scores).inputs(rows, pos, slots).outputs(out)
                .add(DecodeOps.cacheWrite(kc, vc, rows, pos, slots, T, C, NH, T))
                .add(DecodeOps.attention(out, scores, rows, kc, vc, pos, slots, T, C, NH, T, window));
        FloatArray got = new FloatArray(B * T * C);
        try (Session session = backend.open(p)) {
            for (int b = 0; b < B; b++) {
                for (int t = 0; t < T; t++) {
                    for (int i = 0; i < 3 * C; i++) {
                        rows.set(t * 3 * C + i, qkv.get((b * T + t) * 3 * C + i));
                    }
                    pos.set(t, t);
                    slots.set(t, b);
                }
                session.run(p);
                for (int i = 0; i < T * C; i++) {
                    got.set(b * T * C + i, out.get(i));
                }
            }
        }
        return got;
    }
}
