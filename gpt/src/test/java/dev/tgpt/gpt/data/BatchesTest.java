package dev.tgpt.gpt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

class BatchesTest {

    private static final int B = 4;
    private static final int T = 8;

    /** Tokens 0, 1, 2, ...: a window's contents give away where it starts. */
    private static final int[] COUNTING = IntStream.range(0, 1000).toArray();

    @Test
    void windowsAreConsecutiveTokensWithTargetsShiftedByOne() {
        Batches batches = new Batches(COUNTING, B, T, 1);
        IntArray in = new IntArray(B * T);
        IntArray out = new IntArray(B * T);
        for (int step = 0; step < 50; step++) {
            batches.next(in, out);
            for (int b = 0; b < B; b++) {
                int start = in.get(b * T);
                assertTrue(start >= 0 && start + T < COUNTING.length, "start " + start);
                for (int t = 0; t < T; t++) {
                    assertEquals(start + t, in.get(b * T + t));
                    assertEquals(start + t + 1, out.get(b * T + t));
                }
            }
        }
    }

    @Test
    void everyStartIsReachableIncludingTheLast() {
        int[] tokens = IntStream.range(0, T + 2).toArray();
        Batches batches = new Batches(tokens, 1, T, 7);
        IntArray in = new IntArray(T);
        IntArray out = new IntArray(T);
        boolean[] seen = new boolean[2];
        for (int i = 0; i < 100; i++) {
            batches.next(in, out);
            seen[in.get(0)] = true;
        }
        assertTrue(seen[0] && seen[1]);
    }

    @Test
    void aSeedFixesTheBatchesAndRestoringTheStateResumesExactly() {
        Batches a = new Batches(COUNTING, B, T, 42);
        Batches b = new Batches(COUNTING, B, T, 42);
        assertArrayEquals(draw(a, 3), draw(b, 3));
        assertFalse(Arrays.equals(draw(new Batches(COUNTING, B, T, 43), 3), draw(new Batches(COUNTING, B, T, 42), 3)));

        long saved = a.state();
        int[] next = draw(a, 2);
        Batches resumed = new Batches(COUNTING, B, T, 0);
        resumed.restore(saved);
        assertArrayEquals(next, draw(resumed, 2));
    }

    @Test
    void tooFewTokensIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> new Batches(new int[T], B, T, 0));
        assertTrue(e.getMessage().contains(T + " tokens are too few"), e.getMessage());
        new Batches(new int[T + 1], B, T, 0);
        assertThrows(UserError.class, () -> new Batches(COUNTING, 0, T, 0));
        assertThrows(IllegalArgumentException.class, () -> new Batches(COUNTING, B, T, 0).next(new IntArray(B * T), new IntArray(T)));
    }

    private static int[] draw(Batches batches, int steps) {
        IntArray in = new IntArray(B * T);
        IntArray out = new IntArray(B * T);
        int[] all = new int[0];
        for (int i = 0; i < steps; i++) {
            batches.next(in, out);
            int n = all.length;
            all = Arrays.copyOf(all, n + 2 * B * T);
            System.arraycopy(in.toHeapArray(), 0, all, n, B * T);
            System.arraycopy(out.toHeapArray(), 0, all, n + B * T, B * T);
        }
        return all;
    }
}
