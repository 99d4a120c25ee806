package dev.tgpt.engine.ops;

import java.util.List;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.kernels.Lora;
import dev.tgpt.kernels.LoraVector;
import dev.tgpt.kernels.MatmulVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Launches of a linear layer with a LoRA update, y = x·Wᵀ + b + scale·(x·Aᵀ)·Bᵀ: x [N, C], y [N, OC], W [OC, C] and b
 * frozen, A [r, C], B [OC, r] trained, h = x·Aᵀ [N, r] kept from forward for backward, dh [N, r] backward's scratch;
 * scale = alpha/r, fixed for a run. On a device the update's B-side product of the forward and A-side product of dx
 * are added in the frozen matmul's store ({@link Lora#forwardFused}, {@link Lora#backwardInputFused}): a forward is 2
 * launches, a backward 4 (3 and 5 unfused). h and dA are {@link MatmulOps}'s products; on the JVM the update runs as
 * {@link LoraVector}'s pass after {@link MatmulVector}'s. W, A, B, dA and dB may be views of slabs. With r outputs
 * (or rows of dA) Matmul's device kernel leaves most work-items of its 64-wide tiles idle: correct (LoraTest checks r
 * = 1 to 20), and r/C of the frozen layer's work.
 */
public final class LoraOps {

    private LoraOps() {
    }

    /** h = x·Aᵀ, then y = x·Wᵀ + bias + scale·h·Bᵀ (the layer has a bias, as every block's of GPT). */
    public static List<Launch> forward(FloatArray y, FloatArray h, FloatArray x, FloatArray W, FloatArray bias, FloatArray A, FloatArray B,
            float scale, int N, int C, int OC, int r) {
        FloatArray w = Slab.baseOf(W);
        int wOff = Slab.offsetOf(W);
        FloatArray bb = Slab.baseOf(bias);
        int bbOff = Slab.offsetOf(bias);
        FloatArray b = Slab.baseOf(B);
        int bOff = Slab.offsetOf(B);
        return List.of(MatmulOps.forward(h, x, A, null, N, C, r), MatmulOps.tiles("loraForwardFused", OC, N,
                (g, id, ctx) -> g.task(id, Lora::forwardFused, ctx, y, x, w, wOff, bb, bbOff, h, b, bOff, scale, N, C, OC, r), jvm -> {
                    MatmulVector.forward(jvm, y, x, W, bias, N, C, OC);
                    float[] bt = LoraVector.transposed(B, OC, r);
                    blocks(jvm, N, (from, to) -> LoraVector.forward(y, h, bt, scale, OC, r, from, to));
                }));
    }

    /** Adds to dx, dA and dB; overwrites dh. h is forward's. */
    public static List<Launch> backward(FloatArray dx, FloatArray dA, FloatArray dB, FloatArray dh, FloatArray dy, FloatArray x, FloatArray h,
            FloatArray W, FloatArray A, FloatArray B, float scale, int N, int C, int OC, int r) {
        FloatArray w = Slab.baseOf(W);
        int wOff = Slab.offsetOf(W);
        FloatArray a = Slab.baseOf(A);
        int aOff = Slab.offsetOf(A);
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
                MatmulOps.tiles("loraBackwardInputFused", C, N,
                        (g, id, ctx) -> g.task(id, Lora::backwardInputFused, ctx, dx, dy, w, wOff, dh, a, aOff, N, C, OC, r), jvm -> {
                            MatmulVector.backwardInput(jvm, dx, dy, W, N, C, OC);
                            MatmulVector.backwardInput(jvm, dx, dh, A, N, C, r);
                        }),
                MatmulOps.backwardWeight(dA, dh, x, N, C, r));
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
