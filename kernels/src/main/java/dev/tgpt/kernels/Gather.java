package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Picks rows of C: a classifier reads each sequence's last token (GPT-1's fine-tuning, a reward model).
 *
 * <pre>
 * forward:  out[b, c] = inp[rows[b], c]
 * backward: dinp[rows[b], c] += dout[b, c]          (rows distinct: no two work-items add to one element)
 * </pre>
 */
public final class Gather {

    private Gather() {
    }

    public static void gatherForward(FloatArray out, FloatArray inp, IntArray rows, int B, int C) {
        for (@Parallel int i = 0; i < B * C; i++) {
            forwardAt(out, inp, rows, C, i);
        }
    }

    public static void gatherBackward(FloatArray dinp, FloatArray dout, IntArray rows, int B, int C) {
        for (@Parallel int i = 0; i < B * C; i++) {
            backwardAt(dinp, dout, rows, C, i);
        }
    }

    public static void forwardAt(FloatArray out, FloatArray inp, IntArray rows, int C, int i) {
        out.set(i, inp.get(rows.get(i / C) * C + i % C));
    }

    public static void backwardAt(FloatArray dinp, FloatArray dout, IntArray rows, int C, int i) {
        int j = rows.get(i / C) * C + i % C;
        dinp.set(j, dinp.get(j) + dout.get(i));
    }
}
