package dev.tgpt.engine.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.ops.AdamWOps;
import dev.tgpt.engine.ops.GradNormOps;
import dev.tgpt.kernels.AdamW;
import dev.tgpt.kernels.AdamWReference;
import dev.tgpt.kernels.GradNormReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * AdamW against {@link AdamWReference} over steps t = 1, 2, 3 of one compiled program, as in training: parameters and
 * moments stay on the device, each step's gradients and hyperparameters (a new learning rate, the bias corrections of
 * t) are program inputs, and the clipping factor comes from {@link GradNormOps} in the same program, on the device.
 * Steps 1 and 3 clip (maxNorm is half the gradient norm); step 2's gradients are small enough not to. After each step
 * θ, m and v are compared. Tolerances: each is a handful of float32 operations per step on values of similar size, and
 * the clipping factor carries ~1e-6 (see {@link GradNormCheck}); allow 1e-5. lr is large (0.05) so that the updates
 * are a visible part of θ.
 */
public final class AdamWCheck implements OpCheck {

    static final int[] SIZES = { 1, 1001, 65_537 };
    static final float[] LR = { 0.05f, 0.04f, 0.03f };
    static final float[] GRAD_SCALE = { 1f, 1e-3f, 2f };
    static final float BETA1 = 0.9f;
    static final float BETA2 = 0.95f;
    static final float EPS = 1e-8f;
    static final float WEIGHT_DECAY = 0.1f;

    @Override
    public String op() {
        return "adamw";
    }

    @Override
    public List<CheckResult> run(Backend backend) {
        List<CheckResult> results = new ArrayList<>();
        Random r = new Random(42);
        for (int n : SIZES) {
            FloatArray params = Checks.random(r, n, 1f);
            FloatArray grads = new FloatArray(n);
            FloatArray m = new FloatArray(n);
            FloatArray v = new FloatArray(n);
            m.clear();
            v.clear();
            FloatArray hyper = new FloatArray(AdamW.HYPER_SIZE);
            FloatArray norm = new FloatArray(1);
            FloatArray clip = new FloatArray(1);
            FloatArray partials = new FloatArray(GradNormOps.partials(grads));
            double[] wantParams = Checks.toDouble(params);
            double[] wantM = new double[n];
            double[] wantV = new double[n];
            // Clip where the norm of unit-scale gradients, √(n/3), is above maxNorm.
            float maxNorm = (float) (0.5 * Math.sqrt(n / 3.0));
            List<Launch> launches = new ArrayList<>(GradNormOps.norm(norm, clip, partials, maxNorm, grads));
            launches.add(AdamWOps.update(params, grads, m, v, hyper, clip, n));
            Program program = new Program("adamwSteps").state(params, m, v).inputs(grads, hyper).outputs(params, m, v);
            launches.forEach(program::add);
            try (Session c = backend.open(program)) {
                for (int t = 1; t <= 3; t++) {
                    FloatArray step = Checks.random(r, n, GRAD_SCALE[t - 1]);
                    for (int i = 0; i < n; i++) {
                        grads.set(i, step.get(i));
                    }
                    AdamWOps.hyperparameters(hyper, LR[t - 1], BETA1, BETA2, EPS, WEIGHT_DECAY, t);
                    c.run(program);
                    double[] g = Checks.toDouble(grads);
                    double wantClip = GradNormReference.scale(GradNormReference.norm(g), maxNorm);
                    AdamWReference.step(wantParams, g, wantM, wantV, wantClip, LR[t - 1], BETA1, BETA2, EPS, WEIGHT_DECAY, t);
                    results.add(new CheckResult(op(), "step " + t, "n=" + n + (wantClip < 1 ? " clipped" : ""),
                            Checks.worst(Checks.error(params, wantParams), Checks.error(m, wantM), Checks.error(v, wantV)), 1e-5));
                }
            }
        }
        return results;
    }
}
