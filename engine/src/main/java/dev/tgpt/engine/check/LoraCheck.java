package dev.tgpt.engine.check;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.ops.LoraOps;
import dev.tgpt.kernels.LoraReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A linear layer with a LoRA update (h = x·Aᵀ by {@link dev.tgpt.kernels.Matmul}, y = x·Wᵀ + b + s·h·Bᵀ and its
 * backward by {@link dev.tgpt.kernels.Lora}, the update fused into the frozen matmul on a device) against
 * {@link LoraReference}, at ranks 1, 4, 8 and 20 (more than a vector's lanes on the JVM) and sizes that are not
 * multiples of Matmul's tiles, s = 16/r as alpha = 16 gives. W, b, A and B are views of one slab and dA, dB of
 * another, at non-zero offsets, as a model holds them. y and h hold garbage (each is written), the gradients start
 * non-zero (backward adds) and dh holds garbage. Tolerance: each output is a float32 sum of at most max(C, N, OC) = 384
 * products, plus a second sum of r or C terms: about √K·2⁻²⁴ of the sum of the magnitudes, a few times the largest
 * output for these random inputs (as {@link MatmulCheck}): 1e-5.
 */
public final class LoraCheck implements OpCheck {

    /** { N, C, OC, r }. */
    static final int[][] SHAPES = { { 3, 5, 7, 1 }, { 33, 40, 24, 4 }, { 64, 128, 384, 8 }, { 37, 24, 50, 20 } };
    static final float ALPHA = 16f;

    @Override
    public String op() {
        return "lora";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random rnd = new Random(31);
        for (int[] s : SHAPES) {
            int N = s[0];
            int C = s[1];
            int OC = s[2];
            int r = s[3];
            float scale = ALPHA / r;
            String shape = "N=" + N + " C=" + C + " OC=" + OC + " r=" + r;
            // fillers around the views: a wrong offset reads or writes values that show
            Slab params = new Slab(7, r * C, 5, OC * r, 3, OC * C, 2, OC);
            Slab grads = new Slab(3, r * C, 5, OC * r, 7);
            fill(params, rnd);
            fill(grads, rnd);
            FloatArray A = params.view(1);
            FloatArray B = params.view(3);
            FloatArray W = params.view(5);
            FloatArray bias = params.view(7);
            FloatArray dA = grads.view(1);
            FloatArray dB = grads.view(3);
            FloatArray x = Checks.random(rnd, N * C, 1f);
            FloatArray y = Checks.random(rnd, N * OC, 1f);
            FloatArray h = Checks.random(rnd, N * r, 1f);
            double[] xd = Checks.toDouble(x);
            double[] ad = Checks.toDouble(A);
            double[] bd = Checks.toDouble(B);

            double[] wd = Checks.toDouble(W);
            double[] wantY = LoraReference.forward(xd, wd, Checks.toDouble(bias), ad, bd, scale, N, C, OC, r);
            Checks.run(backend, LoraOps.forward(y, h, x, W, bias, A, B, scale, N, C, OC, r), new Object[] { params.base(), x, y, h },
                    new Object[] { y, h });
            results.add(new CheckResult(op(), "forward", shape, Checks.error(y, wantY), 1e-5));

            FloatArray dy = Checks.random(rnd, N * OC, 1f);
            FloatArray dx = Checks.random(rnd, N * C, 1f);
            FloatArray dh = Checks.random(rnd, N * r, 1f);
            double[] wantDx = Checks.toDouble(dx);
            double[] wantDa = Checks.toDouble(dA);
            double[] wantDb = Checks.toDouble(dB);
            float[] fillers = fillers(grads);
            Checks.run(backend, LoraOps.backward(dx, dA, dB, dh, dy, x, h, W, A, B, scale, N, C, OC, r),
                    new Object[] { params.base(), grads.base(), x, h, dy, dx, dh }, new Object[] { grads.base(), dx });
            LoraReference.backward(Checks.toDouble(dy), xd, wd, ad, bd, scale, wantDx, wantDa, wantDb, N, C, OC, r);
            double error = Checks.worst(Checks.error(dx, wantDx), Checks.error(dA, wantDa), Checks.error(dB, wantDb));
            // a write past a view is an error as large as the values there
            if (!Arrays.equals(fillers, fillers(grads))) {
                error = Double.NaN;
            }
            results.add(new CheckResult(op(), "backward", shape, error, 1e-5));
        }
        return results;
    }

    /** Random values in every view of the slab (the gaps stay zero). */
    private static void fill(Slab slab, Random rnd) {
        for (int i = 0; i < slab.size(); i++) {
            FloatArray v = slab.view(i);
            MemorySegment.copy(Checks.random(rnd, v.getSize(), 1f).getSegment(), 0, v.getSegment(), 0, 4L * v.getSize());
        }
    }

    /** The filler views' values (views 0, 2, 4), one after another. */
    private static float[] fillers(Slab slab) {
        float[] a = slab.view(0).toHeapArray();
        float[] b = slab.view(2).toHeapArray();
        float[] c = slab.view(4).toHeapArray();
        float[] all = Arrays.copyOf(a, a.length + b.length + c.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        System.arraycopy(c, 0, all, a.length + b.length, c.length);
        return all;
    }
}
