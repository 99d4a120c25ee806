package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Fixtures;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.io.Safetensors;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The kernels against PyTorch (engine/src/test/resources/fixtures/make_fixtures.py: float64 autograd, saved as
 * float32), on the JVM backend and on the device under test. Tolerances as the ops' self-checks: 1e-5 where one
 * float32 pass computes the value, 1e-4 for backward passes that subtract nearly equal sums. LayerNorm's comparison is
 * in LayerNormTest.
 */
class PyTorchFixturesTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    static void close(String what, FloatArray got, FloatArray want, double tol) {
        double e = Checks.error(got, Checks.toDouble(want));
        assertTrue(e < tol, what + ": error " + e + " > " + tol);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void attention(Backend backend) {
        try (Safetensors f = Fixtures.open("attention")) {
            int B = Fixtures.meta(f, "B"), T = Fixtures.meta(f, "T"), C = Fixtures.meta(f, "C"), NH = Fixtures.meta(f, "NH");
            FloatArray qkv = f.floats("qkv");
            FloatArray out = new FloatArray(B * T * C);
            FloatArray att = new FloatArray(B * NH * T * T);
            Checks.run(backend, List.of(AttentionOps.forward(out, att, qkv, B, T, C, NH)), new Object[] { qkv }, new Object[] { out, att });
            close("attention forward", out, f.floats("y"), 1e-5);
            close("attention probabilities", att, f.floats("att"), 1e-5);
            FloatArray dy = f.floats("dy");
            FloatArray dqkv = new FloatArray(B * T * 3 * C);
            FloatArray scratch = new FloatArray(B * NH * T * T);
            Checks.run(backend, AttentionOps.backward(dqkv, scratch, dy, qkv, att, B, T, C, NH), new Object[] { dqkv, dy, qkv, att },
                    new Object[] { dqkv });
            close("attention backward", dqkv, f.floats("dqkv"), 1e-4);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void crossEntropy(Backend backend) {
        try (Safetensors f = Fixtures.open("crossentropy")) {
            int N = Fixtures.meta(f, "N"), V = Fixtures.meta(f, "V");
            FloatArray logits = f.floats("logits");
            IntArray targets = f.ints("targets");
            FloatArray losses = new FloatArray(N);
            FloatArray lse = new FloatArray(N);
            FloatArray dlogits = new FloatArray(N * V);
            FloatArray dloss = new FloatArray(N);
            int counted = 0;
            for (int i = 0; i < N; i++) {
                counted += targets.get(i) >= 0 ? 1 : 0;
            }
            dloss.init(1f / counted); // PyTorch's mean over the non-ignored positions
            List<Launch> both = List.of(CrossEntropyOps.forward(losses, lse, logits, targets, N, V),
                    CrossEntropyOps.backward(dlogits, logits, lse, targets, dloss, N, V));
            Checks.run(backend, both, new Object[] { logits, targets, dlogits, dloss }, new Object[] { losses, dlogits });
            close("cross-entropy losses", losses, f.floats("losses"), 1e-5);
            close("cross-entropy gradient", dlogits, f.floats("dlogits"), 1e-5);
        }
    }

    /** Three steps of torch.optim.AdamW; the parameters after each step. */
    @ParameterizedTest
    @MethodSource("backends")
    void adamW(Backend backend) {
        try (Safetensors f = Fixtures.open("adamw")) {
            int n = Fixtures.meta(f, "n");
            float lr = Float.parseFloat(f.metadata().get("lr"));
            float b1 = Float.parseFloat(f.metadata().get("beta1"));
            float b2 = Float.parseFloat(f.metadata().get("beta2"));
            float eps = Float.parseFloat(f.metadata().get("eps"));
            float wd = Float.parseFloat(f.metadata().get("weight_decay"));
            FloatArray p = f.floats("p0");
            FloatArray m = new FloatArray(n);
            FloatArray v = new FloatArray(n);
            FloatArray g = new FloatArray(n);
            FloatArray hyper = new FloatArray(dev.tgpt.kernels.AdamW.HYPER_SIZE);
            FloatArray clip = FloatArray.fromArray(new float[] { 1f });
            dev.tgpt.engine.Program program = new dev.tgpt.engine.Program("adamw").state(p, m, v, clip).inputs(g, hyper).outputs(p)
                    .add(AdamWOps.update(p, g, m, v, hyper, clip, n));
            try (dev.tgpt.engine.Session s = backend.open(program)) {
                for (int t = 1; t <= Fixtures.meta(f, "steps"); t++) {
                    FloatArray gt = f.floats("g" + t);
                    java.lang.foreign.MemorySegment.copy(gt.getSegment(), 0, g.getSegment(), 0, gt.getNumBytesOfSegment());
                    AdamWOps.hyperparameters(hyper, lr, b1, b2, eps, wd, t);
                    s.run(program);
                    close("AdamW step " + t, p, f.floats("p" + t), 1e-5);
                }
            }
        }
    }
}
