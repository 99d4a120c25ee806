package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.EmbeddingCheck;
import dev.tgpt.kernels.Embedding;
import dev.tgpt.kernels.EmbeddingReference;
import dev.tgpt.kernels.EmbeddingVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
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

    /** The JVM twin against the kernel's helpers, bit for bit: repeated tokens, ids outside [0, V), C not a multiple of a vector. */
    @Test
    void vectorTwinGivesTheHelpersBits() {
        Random r = new Random(11);
        int B = 3;
        int T = 5;
        int C = 37;
        int V = 7;
        int[] ids = r.ints(B * T, -1, V + 1).toArray();
        ids[0] = ids[1] = 2;
        IntArray tokens = IntArray.fromArray(ids);
        FloatArray wte = Checks.random(r, V * C, 1f);
        FloatArray wpe = Checks.random(r, (T + 2) * C, 1f);
        FloatArray dout = Checks.random(r, B * T * C, 1f);
        FloatArray[] twin = { new FloatArray(B * T * C), Checks.random(r, V * C, 1f), Checks.random(r, (T + 2) * C, 1f) };
        FloatArray[] helper = { new FloatArray(B * T * C), copy(twin[1]), copy(twin[2]) };
        for (int n = 0; n < B * T; n++) {
            EmbeddingVector.forwardRow(twin[0], tokens, wte, wpe, n, T, C, V);
        }
        for (int k = 0; k < EmbeddingVector.blocks(C); k++) {
            EmbeddingVector.tokenGradBlock(twin[1], dout, tokens, k, B * T, C, V);
        }
        for (int t = 0; t < T; t++) {
            EmbeddingVector.positionGradRow(twin[2], dout, t, B, T, C);
        }
        for (int i = 0; i < B * T * C; i++) {
            Embedding.forwardAt(helper[0], tokens, wte, 0, wpe, 0, i, T, C, V);
        }
        for (int c = 0; c < C; c++) {
            Embedding.tokenGradColumn(helper[1], 0, dout, tokens, c, 0, 1, B * T, C, V);
        }
        for (int i = 0; i < T * C; i++) {
            Embedding.positionGradAt(helper[2], 0, dout, i, B, T, C);
        }
        String[] names = { "out", "dwte", "dwpe" };
        for (int a = 0; a < 3; a++) {
            for (int i = 0; i < helper[a].getSize(); i++) {
                assertEquals(Float.floatToIntBits(helper[a].get(i)), Float.floatToIntBits(twin[a].get(i)), names[a] + " element " + i);
            }
        }
    }

    private static FloatArray copy(FloatArray a) {
        return FloatArray.fromArray(a.toHeapArray());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new EmbeddingCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }


    /** wte, wpe, dwte and dwpe as views of a slab: the same bits as plain arrays, nothing else in the slab touched. */
    @ParameterizedTest
    @MethodSource("backends")
    void parametersInASlabGiveTheSameBits(Backend backend) {
        Random r = new Random(17);
        int B = 2;
        int T = 3;
        int C = 5;
        int V = 7;
        IntArray tokens = IntArray.fromArray(new int[] { 1, 6, 1, 0, 3, 6 });
        FloatArray[] params = { Checks.random(r, V * C, 1f), Checks.random(r, (T + 1) * C, 1f), Checks.random(r, V * C, 1f),
                Checks.random(r, (T + 1) * C, 1f) };
        FloatArray[] others = { new FloatArray(B * T * C), Checks.random(r, B * T * C, 1f) };
        SlabRuns.assertSameInSlab(backend, params, others, new Object[] { tokens }, (p, o) -> {
            List<Launch> launches = new ArrayList<>(List.of(EmbeddingOps.forward(o[0], tokens, p[0], p[1], B, T, C, V)));
            launches.addAll(EmbeddingOps.backward(p[2], p[3], o[1], tokens, B, T, C, V));
            return launches;
        });
    }
}
