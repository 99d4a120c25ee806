package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.FiniteDifferences;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.check.SparseAttentionCheck;
import dev.tgpt.engine.ops.SparseAttentionOps.Pattern;
import dev.tgpt.kernels.SparseAttention;
import dev.tgpt.kernels.SparseAttentionReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

class SparseAttentionTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    /** The patterns at sequence length n, with l ≈ √n (and c = l/8 summary columns, w = l). */
    static List<Pattern> patterns(int n) {
        int l = (int) Math.round(Math.sqrt(n));
        return List.of(Pattern.strided(l), Pattern.fixed(l, l / 8), Pattern.banded(l));
    }

    static Stream<Arguments> longSequences() {
        List<Arguments> args = new ArrayList<>();
        for (Backend backend : backends().toList()) {
            for (int n : new int[] { 256, 1024 }) {
                for (Pattern p : patterns(n)) {
                    args.add(Arguments.of(backend, n, p));
                }
            }
        }
        return args.stream();
    }

    /** The reference backward against central differences of the reference forward (double: agreement to ~1e-8). */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(7);
        int B = 2;
        int T = 7;
        int C = 6;
        int NH = 2;
        for (Pattern p : List.of(Pattern.strided(3), Pattern.fixed(3, 1), Pattern.banded(2))) {
            double[] qkv = FiniteDifferences.random(r, B * T * 3 * C);
            double[] dout = FiniteDifferences.random(r, B * T * C);
            double[] dqkv = new double[qkv.length];
            SparseAttentionReference.backward(dout, qkv, dqkv, B, T, C, NH, p::allows);
            double[] numeric = FiniteDifferences.gradient(qkv,
                    v -> FiniteDifferences.dot(dout, SparseAttentionReference.forward(v, B, T, C, NH, p::allows)), 1e-5);
            double err = FiniteDifferences.relativeError(dqkv, numeric);
            assertTrue(err < 1e-7, p + ": " + err);
        }
    }

    /**
     * The enumeration against the definition, exhaustively on small sequences: query t's keys are exactly the allowed
     * t2 ≤ t, ascending, each at its slot; key t2's queries are exactly the allowed t ≥ t2, ascending; K is the most keys.
     */
    @Test
    void enumerationMatchesTheDefinition() {
        List<Pattern> all = new ArrayList<>();
        for (int s = 1; s <= 9; s++) {
            all.add(Pattern.strided(s));
            all.add(Pattern.banded(s));
            for (int c = 1; c <= s; c++) {
                all.add(Pattern.fixed(s, c));
            }
        }
        for (Pattern p : all) {
            for (int T : new int[] { 1, 2, 5, 8, 17, 40 }) {
                int most = 0;
                for (int t = 0; t < T; t++) {
                    List<Integer> want = new ArrayList<>();
                    for (int t2 = 0; t2 <= t; t2++) {
                        if (p.allows(t, t2)) {
                            want.add(t2);
                        }
                    }
                    List<Integer> got = new ArrayList<>();
                    for (int j = 0; j < p.keyCount(t); j++) {
                        got.add(p.key(t, j));
                        assertEquals(j, p.slot(t, p.key(t, j)), p + " slot of key " + j + " of query " + t);
                    }
                    assertEquals(want, got, p + " keys of query " + t);
                    most = Math.max(most, got.size());
                }
                assertEquals(most, p.maxKeys(T), p + " K at T=" + T);
                for (int t2 = 0; t2 < T; t2++) {
                    List<Integer> want = new ArrayList<>();
                    for (int t = t2; t < T; t++) {
                        if (p.allows(t, t2)) {
                            want.add(t);
                        }
                    }
                    List<Integer> got = new ArrayList<>();
                    for (int n = 0; n < p.queryCount(t2, T); n++) {
                        got.add(p.query(t2, n));
                    }
                    assertEquals(want, got, p + " queries of key " + t2 + " at T=" + T);
                }
            }
        }
    }

    /**
     * Work is proportional to the allowed pairs: at n = 1024 the (query, key) pairs the kernels visit (Σ keyCount,
     * which is also Σ queryCount, what dk and dv visit) equal the pairs the definition allows, O(n√n) for strided and
     * fixed with l = √n (≤ n·(l + n/l) and ≤ n·(l + c·n/l)), n·w at most for banded: far below the n(n+1)/2 of dense
     * causal attention.
     */
    @Test
    void pairsVisitedAreThePatternsPairs() {
        int n = 1024;
        long dense = (long) n * (n + 1) / 2;
        for (Pattern p : patterns(n)) {
            long visited = p.pairs(n);
            long transposed = 0;
            long allowed = 0;
            for (int t2 = 0; t2 < n; t2++) {
                transposed += p.queryCount(t2, n);
                for (int t = t2; t < n; t++) {
                    allowed += p.allows(t, t2) ? 1 : 0;
                }
            }
            int l = p.span();
            long bound = switch (p.kind()) {
                case SparseAttention.STRIDED -> (long) n * (l + n / l);
                case SparseAttention.FIXED -> (long) n * (l + (long) p.summary() * n / l);
                default -> (long) n * l;
            };
            System.out.printf("pairs n=%d %-18s visited %7d = allowed %7d = transposed %7d; n*sqrt(n) %6d; dense causal %6d (%.1f%%)%n", n, p,
                    visited, allowed, transposed, Math.round(n * Math.sqrt(n)), dense, 100.0 * visited / dense);
            assertEquals(allowed, visited, p.toString());
            assertEquals(allowed, transposed, p.toString());
            assertTrue(visited <= bound, p + ": " + visited + " > " + bound);
            assertTrue(visited * 4 < dense, p + ": " + visited + " pairs is not far below dense " + dense);
        }
    }

    /** The criterion: sparse attention equals dense attention with the same mask, forward and gradients, at n = 256 and 1,024. */
    @ParameterizedTest
    @MethodSource("longSequences")
    void sparseEqualsDenseWithTheSameMask(Backend backend, int n, Pattern p) {
        for (CheckResult result : SparseAttentionCheck.check(backend, p, 1, n, 16, 2, new Random(n))) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new SparseAttentionCheck().run(backend)) {
            System.out.println(backend.info().id() + " " + result.line());
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }

    /**
     * The JVM backend's results do not depend on its thread count: each element is written by one call and summed in a
     * fixed order. Odd T and head size (hs = 21: whole vectors plus a masked part), rows split unevenly among threads.
     */
    @Test
    void jvmResultsDoNotDependOnTheThreadCount() {
        int B = 2;
        int T = 37;
        int C = 42;
        int NH = 2;
        for (Pattern p : List.of(Pattern.strided(5), Pattern.fixed(6, 2))) {
            float[][] one = jvmRun(new JvmBackend(1), p, B, T, C, NH);
            float[][] two = jvmRun(new JvmBackend(2), p, B, T, C, NH);
            for (int i = 0; i < one.length; i++) {
                assertArrayEquals(one[i], two[i], p + " output " + i); // compares bits (Float.floatToIntBits)
            }
        }
    }

    /** out, att and dqkv (which starts non-zero) of one forward and backward, inputs from a fixed seed. */
    private static float[][] jvmRun(JvmBackend backend, Pattern p, int B, int T, int C, int NH) {
        Random r = new Random(11);
        FloatArray qkv = Checks.random(r, B * T * 3 * C, 1f);
        FloatArray out = new FloatArray(B * T * C);
        FloatArray att = new FloatArray(B * NH * T * p.maxKeys(T));
        FloatArray dout = Checks.random(r, B * T * C, 1f);
        FloatArray dqkv = Checks.random(r, B * T * 3 * C, 1f);
        FloatArray datt = new FloatArray(att.getSize());
        Checks.run(backend, List.of(SparseAttentionOps.forward(out, att, qkv, B, T, C, NH, p)), new Object[] { qkv }, new Object[] { out, att });
        Checks.run(backend, SparseAttentionOps.backward(dqkv, datt, dout, qkv, att, B, T, C, NH, p), new Object[] { dqkv, dout, qkv, att },
                new Object[] { dqkv });
        return new float[][] { out.toHeapArray(), att.toHeapArray(), dqkv.toHeapArray() };
    }
}
