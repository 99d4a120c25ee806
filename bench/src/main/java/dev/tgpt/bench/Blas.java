package dev.tgpt.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import dev.tgpt.engine.check.Checks;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** OpenBLAS's sgemm on the matmul cases, on the same off-heap arrays and threads as ours: impl "openblas". */
final class Blas {

    private Blas() {
    }

    static List<Result> run(OpenBlas blas, List<Case> matmuls, int threads, Protocol protocol, Peaks peaks, Consumer<String> log) {
        blas.threads(threads);
        String name = "OpenBLAS " + blas.config().trim() + ", " + threads + " threads";
        List<Result> out = new ArrayList<>();
        Random r = new Random(1);
        for (Case c : matmuls) {
            log.accept("openblas: " + c.name() + " " + c.shape());
            Map<String, Integer> s = c.params();
            int N = s.get("N"), C = s.get("C"), OC = s.get("OC");
            FloatArray inp = Checks.random(r, N * C, 1f), w = Checks.random(r, OC * C, 1f), dout = Checks.random(r, N * OC, 1f);
            FloatArray y = new FloatArray(N * OC), dinp = new FloatArray(N * C), dw = new FloatArray(OC * C);
            double[] ms = switch (c.name()) {
                // out = inp·Wᵀ (sgemm NoTrans×Trans)
                case "matmul.forward" -> protocol.time(() -> blas.sgemm(false, true, N, OC, C, inp.getSegment(), C, w.getSegment(), C, 0f,
                        y.getSegment(), OC));
                // dinp += dout·W, dW += doutᵀ·inp
                case "matmul.backward" -> protocol.time(() -> {
                    blas.sgemm(false, false, N, C, OC, dout.getSegment(), OC, w.getSegment(), C, 1f, dinp.getSegment(), C);
                    blas.sgemm(true, false, OC, C, N, dout.getSegment(), OC, inp.getSegment(), C, 1f, dw.getSegment(), C);
                });
                default -> throw new IllegalArgumentException(c.name());
            };
            out.add(Result.of(c, "openblas", "cpu", name, Stats.of(ms), peaks,
                    c.name().equals("matmul.forward") ? "sgemm without the bias (ours adds it in the same pass)"
                            : "two sgemms; no bias gradient (ours also sums dbias)"));
        }
        return out;
    }
}
