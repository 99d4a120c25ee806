package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.kernels.MatmulReference;
import dev.tgpt.kernels.QuantMatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The bf16 and int8 matmuls against {@link MatmulReference} times the weight {@link QuantMatmulReference} reads back
 * from the packed arrays, so the kernels' decoding of the layout is checked, not the rounding (QuantMatmulTest
 * bounds that). One row (a decoding step), a few, more rows than the JVM twin's matrix-vector path takes (17), and a
 * prefill's 64 rows against a few columns (groups of 4 and a last one); with and without bias. Tolerance 1e-5, as
 * {@link MatmulCheck}'s: float sums of up to 256 products.
 */
public final class QuantMatmulCheck implements OpCheck {

    /** N, C, OC, bias (1) or none (0). */
    static final int[][] SHAPES = { { 1, 64, 45, 1 }, { 3, 96, 130, 0 }, { 17, 256, 70, 1 }, { 64, 96, 9, 0 } };

    @Override
    public String op() {
        return "quant_matmul";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(43);
        for (QuantMatmulOps.Format f : List.of(QuantMatmulOps.Format.BF16, QuantMatmulOps.Format.INT8)) {
            for (int[] s : SHAPES) {
                int N = s[0];
                int C = s[1];
                int OC = s[2];
                boolean withBias = s[3] == 1;
                FloatArray x = Checks.random(r, N * C, 1f);
                FloatArray w = Checks.random(r, OC * C, 1f);
                FloatArray b = withBias ? Checks.random(r, OC, 1f) : null;
                FloatArray y = Checks.random(r, N * OC, 1f); // overwritten
                QuantMatmulOps.Matrix m = QuantMatmulOps.pack(f, List.of(w), new int[] { OC }, new int[] { C }).getFirst();
                Object[] in = withBias ? new Object[] { x, m.data(), m.scales(), b } : new Object[] { x, m.data(), m.scales() };
                Checks.run(backend, List.of(QuantMatmulOps.forward(y, x, m, b, N)), in, new Object[] { y });
                int[] packed = m.data().toHeapArray();
                double[] weight = f == QuantMatmulOps.Format.BF16 ? QuantMatmulReference.bf16Weight(packed, OC, C)
                        : QuantMatmulReference.int8Weight(packed, m.scales().toHeapArray(), OC, C);
                double[] want = MatmulReference.forward(Checks.toDouble(x), weight, withBias ? Checks.toDouble(b) : null, N, C, OC);
                results.add(new CheckResult(op(), "forward", f + " N=" + N + " C=" + C + " OC=" + OC + (withBias ? "" : " no bias"),
                        Checks.error(y, want), 1e-5));
            }
        }
        return results;
    }
}
