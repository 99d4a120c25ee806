package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.ops.GradNormOps;
import dev.tgpt.kernels.GradNormReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The global gradient norm and clipping factor against {@link GradNormReference}: one element; one buffer of one
 * partial; one of many partials whose chunks do not divide it (300,001 elements: 74 work-groups of 4,055); and
 * three buffers at once (5, 77,777 and 1,000 elements: partials in consecutive slots). Each shape runs with maxNorm
 * half the norm (scale ≈ 0.5) and twice the norm (scale exactly 1). The partials live on the device only (garbage
 * before the first phase). Tolerances: a float32 sum of squares over ≤ 300,001 terms, in strided partials then trees
 * (on the JVM backend sequential chunks of ≤ 4,096), relative error ~1e-6; the square root halves it; the scale
 * inherits it. Allow 1e-5.
 */
public final class GradNormCheck implements OpCheck {

    static final int[][] SHAPES = { { 1 }, { 1000 }, { 300_001 }, { 5, 77_777, 1000 } };

    @Override
    public String op() {
        return "gradnorm";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int[] sizes : SHAPES) {
            FloatArray[] grads = new FloatArray[sizes.length];
            double[][] want = new double[sizes.length][];
            for (int k = 0; k < sizes.length; k++) {
                grads[k] = Checks.random(r, sizes[k], 1f);
                want[k] = Checks.toDouble(grads[k]);
            }
            double wantNorm = GradNormReference.norm(want);
            for (double ratio : new double[] { 0.5, 2 }) {
                float maxNorm = (float) (ratio * wantNorm);
                String shape = "n=" + Arrays.stream(sizes).mapToObj(String::valueOf).collect(Collectors.joining("+"))
                        + (ratio < 1 ? " clipped" : "");
                FloatArray norm = new FloatArray(1);
                FloatArray scale = new FloatArray(1);
                FloatArray partials = new FloatArray(GradNormOps.partials(grads));
                Checks.run(backend, GradNormOps.norm(norm, scale, partials, maxNorm, grads), grads, new Object[] { norm, scale });
                double wantScale = GradNormReference.scale(wantNorm, maxNorm);
                results.add(new CheckResult(op(), "forward", shape,
                        Checks.worst(Checks.error(norm, new double[] { wantNorm }), Checks.error(scale, new double[] { wantScale })), 1e-5));
            }
        }
        return results;
    }
}
