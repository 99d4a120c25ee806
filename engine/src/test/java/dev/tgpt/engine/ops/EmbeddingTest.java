package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.EmbeddingCheck;
import dev.tgpt.kernels.EmbeddingReference;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class EmbeddingTest {

    static java.util.stream.Stream<Backend> backends() {
        return dev.tgpt.engine.TestBackends.all();
    }

    /** The reference backward against central differences, with a repeated token and an id outside the vocabulary. */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int B = 2;
        int T = 3;
        int C = 4;
        int V = 5;
        int[] tokens = { 1, 3, 1, 4, -1, 0 };
        double[] wte = FiniteDifferences.random(r, V * C);
        double[] wpe = FiniteDifferences.random(r, (T + 1) * C);
        double[] dout = FiniteDifferences.random(r, B * T * C);
        double[] dwte = new double[V * C];
        double[] dwpe = new double[(T + 1) * C];
        EmbeddingReference.backward(dout, tokens, dwte, dwpe, B, T, C, V);
        assertTrue(FiniteDifferences.relativeError(dwte, FiniteDifferences.gradient(wte,
                v -> FiniteDifferences.dot(dout, EmbeddingReference.forward(tokens, v, wpe, B, T, C, V)), 1e-5)) < 1e-8);
        assertTrue(FiniteDifferences.relativeError(dwpe, FiniteDifferences.gradient(wpe,
                v -> FiniteDifferences.dot(dout, EmbeddingReference.forward(tokens, wte, v, B, T, C, V)), 1e-5)) < 1e-8);
    }

    @Test
    void idsOutsideTheVocabularyAreRefusedOnTheHost() {
        EmbeddingOps.validate(IntArray.fromArray(new int[] { 0, 4 }), 5);
        assertThrows(UserError.class, () -> EmbeddingOps.validate(IntArray.fromArray(new int[] { 0, 5 }), 5));
        assertThrows(UserError.class, () -> EmbeddingOps.validate(IntArray.fromArray(new int[] { -1 }), 5));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new EmbeddingCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
