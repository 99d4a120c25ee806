package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.Lora;
import dev.tgpt.kernels.LoraVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of a LoRA update on a frozen linear layer: x [N, C], y [N, OC], A [r, C], B [OC, r], h = x·Aᵀ [N, r] kept
 * from forward for backward, dh [N, r] backward's scratch; scale = alpha/r, fixed for a run. The A-side products are
 * {@link MatmulOps}'s, the B side {@link Lora}'s (on the JVM {@link LoraVector}'s). A, B, dA and dB may be views of
 * slabs. With r outputs (or rows of dA) Matmul's device kernel leaves most work-items of its 64-wide tiles idle:
 * correct (LoraTest checks r = 1 to 16), and r/C of the frozen layer's work.
 */
public final class LoraOps {

    private LoraOps() {
    }

    /** h = x·Aᵀ, then y += scale·h·Bᵀ: y already holds the frozen layer's x·Wᵀ + b. */
    public static List<Launch> forward(FloatArray y, FloatArray h, FloatArray x, FloatArray A, FloatArray B, float scale, int N, int C, int OC,
            int r) {
        FloatArray b = Slab.baseOf(B);
        int bOff = Slab.offsetOf(B);
        return List.of(MatmulOps.forward(h, x, A, null, N, C, r),
                Launch.parallel("loraForward", (g, id) -> g.task(id, Lora::loraForward, y, h, b, bOff, scale, N, OC, r), jvm -> {
                    float[] bt = LoraVector.transposed(B, OC, r);
                    blocks(jvm, N, (from, to) -> LoraVector.forward(y, h, bt, scale, OC, r, from, to));
                }));
    }

    /** Adds to dx, dA and dB; overwrites dh. h is forward's. */
    public static List<Launch> backward(FloatArray dx, FloatArray dA, FloatArray dB, FloatArray dh, FloatArray dy, FloatArray x, FloatArray h,
            FloatArray A, FloatArray B, float scale, int N, int C, int OC, int r) {
        FloatArray b = Slab.baseOf(B);
        int bOff = Slab.offsetOf(B);
        FloatArray db = Slab.baseOf(dB);
        int dbOff = Slab.offsetOf(dB);
        return List.of(
                Launch.parallel("loraBackwardB", (g, id) -> g.task(id, Lora::loraBackwardB, db, dbOff, dy, h, scale, N, OC, r),
                        jvm -> blocks(jvm, OC, (from, to) -> LoraVector.backwardB(dB, dy, h, scale, N, OC, r, from, to))),
                Launch.parallel("loraBackwardH", (g, id) -> g.task(id, Lora::loraBackwardH, dh, dy, b, bOff, scale, N, OC, r),
                        jvm -> {
                            float[] bs = LoraVector.padded(B, OC, r);
                            blocks(jvm, N, (from, to) -> LoraVector.backwardH(dh, dy, bs, scale, OC, r, from, to));
                        }),
                MatmulOps.backwardInput(dx, dh, A, N, C, r), MatmulOps.backwardWeight(dA, dh, x, N, C, r));
    }

    /**
     * Runs body over [0, n) in blocks of {@link #BLOCK} across the JVM backend's threads: each row (or dB row) costs
     * r·OC (or r·N) multiply-adds, work worth spreading even when n is small.
     */
    private static void blocks(JvmBackend jvm, int n, JvmBackend.Range body) {
        jvm.parallelFor((n + BLOCK - 1) / BLOCK, i -> body.run(i * BLOCK, Math.min(n, (i + 1) * BLOCK)));
    }

    private static final int BLOCK = 16;
}
