package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.QuantMatmulCheck;
import dev.tgpt.kernels.QuantMatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class QuantMatmulTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new QuantMatmulCheck().run(backend)) {
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    static QuantMatmulOps.Matrix pack(QuantMatmulOps.Format f, FloatArray w, int OC, int C) {
        return QuantMatmulOps.pack(f, List.of(w), new int[] { OC }, new int[] { C }).getFirst();
    }

    /** bf16 keeps 8 significant bits (7 stored): each weight within half their last place (2⁻⁸ relative), ties to even. */
    @Test
    void bf16RoundsToNearestEven() {
        Random r = new Random(1);
        int OC = 3;
        int C = 64;
        FloatArray w = Checks.random(r, OC * C, 10f);
        w.set(0, 1f + 0x1.0p-8f); // halfway between 1 and 1 + 2⁻⁷: ties to even, 1
        w.set(1, 1f + 3 * 0x1.0p-8f); // halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: ties to even, 1 + 2⁻⁶
        w.set(2, -0.15625f); // exact in bf16
        w.set(3, 1e-39f); // subnormal: flushed to zero, as the device kernel reads it
        double[] back = QuantMatmulReference.bf16Weight(pack(QuantMatmulOps.Format.BF16, w, OC, C).data().toHeapArray(), OC, C);
        assertEquals(1.0, back[0]);
        assertEquals(1 + 0x1.0p-6, back[1]);
        assertEquals(-0.15625, back[2]);
        assertEquals(0.0, back[3]);
        for (int i = 4; i < OC * C; i++) {
            assertTrue(Math.abs(back[i] - w.get(i)) <= Math.abs(w.get(i)) * 0x1.0p-8, i + ": " + w.get(i) + " -> " + back[i]);
        }
    }

    /** Q8_0: a block's scale is its largest magnitude / 127, each weight within half a scale; a zero block stays zero. */
    @Test
    void int8IsWithinHalfAScale() {
        Random r = new Random(2);
        int OC = 2;
        int C = 96;
        FloatArray w = Checks.random(r, OC * C, 3f);
        for (int j = 32; j < 64; j++) {
            w.set(j, 0f);
        }
        QuantMatmulOps.Matrix m = pack(QuantMatmulOps.Format.INT8, w, OC, C);
        float[] scales = m.scales().toHeapArray();
        double[] back = QuantMatmulReference.int8Weight(m.data().toHeapArray(), scales, OC, C);
        for (int blk = 0; blk < OC * C / 32; blk++) {
            float max = 0f;
            for (int j = 0; j < 32; j++) {
                max = Math.max(max, Math.abs(w.get(blk * 32 + j)));
            }
            assertEquals(max / 127f, scales[blk], 0f);
            for (int j = 0; j < 32; j++) {
                int i = blk * 32 + j;
                assertTrue(Math.abs(back[i] - w.get(i)) <= scales[blk] / 2 * (1 + 1e-6), i + ": " + w.get(i) + " -> " + back[i]);
            }
        }
        assertEquals(0f, scales[1]);
        assertEquals(0.0, back[40]);
    }

    @Test
    void rowsMustBeWholeBlocksAndValuesInRange() {
        UserError e = assertThrows(UserError.class, () -> pack(QuantMatmulOps.Format.INT8, new FloatArray(40), 1, 40));
        assertTrue(e.getMessage().contains("multiple of 32") && e.getMessage().contains("use fp32"), e.getMessage());
        assertEquals(QuantMatmulOps.Format.BF16, QuantMatmulOps.Format.parse("BF16"));
        assertThrows(UserError.class, () -> QuantMatmulOps.Format.parse("fp8"));
        FloatArray huge = new FloatArray(32);
        huge.set(5, Float.MAX_VALUE);
        assertTrue(assertThrows(UserError.class, () -> pack(QuantMatmulOps.Format.BF16, huge, 1, 32)).getMessage().contains("beyond bf16's range"));
    }
}
