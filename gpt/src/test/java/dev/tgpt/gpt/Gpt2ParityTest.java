package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.io.Safetensors;
import dev.tgpt.gpt.io.Checkpoint;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The engine against a GPT-2 in PyTorch (gpt/src/test/resources/gpt2-parity/make_fixture.py: GPT2LMHeadModel's
 * computation in HF's names and layouts, float64), loaded as a Hugging Face directory. The tolerances: logits
 * within 1e-4 absolute, loss within 1e-5, every gradient within 1e-3 relative (max abs error / max abs value).
 */
class Gpt2ParityTest {

    static final Path DIR = Path.of("src/test/resources/gpt2-parity");

    /** The fixture's batch: B rows of T tokens and their targets. */
    record Batch(int B, int T, int[] inputs, int[] targets) {

        static Batch load() {
            try (Safetensors batch = Safetensors.open(DIR.resolve("batch.safetensors"))) {
                long[] shape = batch.tensor("input_ids").shape();
                return new Batch((int) shape[0], (int) shape[1], batch.ints("input_ids").toHeapArray(), batch.ints("targets").toHeapArray());
            }
        }
    }

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void logitsLossAndGradientsMatchPyTorch(Backend backend) {
        Checkpoint model = Checkpoint.load(DIR.resolve("model"));
        Batch b = Batch.load();
        Gradients.Result r = Gradients.compute(model.config(), model.parameters(), backend, b.inputs(), b.targets(), b.B(), b.T());
        try (Safetensors want = Safetensors.open(DIR.resolve("expected.safetensors"))) {
            FloatArray logits = want.floats("logits");
            double maxAbs = 0;
            for (int i = 0; i < logits.getSize(); i++) {
                maxAbs = Math.max(maxAbs, Math.abs(logits.get(i) - r.logits().get(i)));
            }
            assertTrue(maxAbs < 1e-4, "logits differ by " + maxAbs);
            assertEquals(want.floats("loss").get(0), r.loss(), 1e-5);
            var grads = Checkpoint.hfTensors(r.grads(), "grad.");
            assertEquals(want.tensors().size() - 2, grads.size());
            for (var e : grads.entrySet()) {
                FloatArray w = want.floats(e.getKey());
                FloatArray g = (FloatArray) e.getValue().data();
                double diff = 0;
                double ref = 0;
                for (int i = 0; i < w.getSize(); i++) {
                    diff = Math.max(diff, Math.abs(w.get(i) - g.get(i)));
                    ref = Math.max(ref, Math.abs(w.get(i)));
                }
                assertTrue(diff / ref < 1e-3, e.getKey() + ": relative error " + diff / ref);
            }
        }
    }
}
