package dev.tgpt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JVM backend's thread team: every index once, failures as they were, nesting and concurrent callers. */
class JvmBackendTest {

    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 3 })
    void everyIndexRunsExactlyOnce(int threads) {
        JvmBackend jvm = new JvmBackend(threads);
        for (int n : new int[] { 1, 7, 4095, 4096, 100_003 }) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            jvm.parallelRange(n, (from, to) -> {
                for (int i = from; i < to; i++) {
                    seen.incrementAndGet(i);
                }
            });
            AtomicIntegerArray rows = new AtomicIntegerArray(n);
            jvm.parallelFor(n, rows::incrementAndGet);
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i), "parallelRange, n = " + n + ", index " + i);
                assertEquals(1, rows.get(i), "parallelFor, n = " + n + ", index " + i);
            }
        }
    }

    @Test
    void theWorkersTakeChunks() {
        // Two chunks that can only finish together: the caller alone would wait at the barrier until it times out.
        CyclicBarrier both = new CyclicBarrier(2);
        new JvmBackend(2).parallelFor(2, i -> {
            try {
                both.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                throw new AssertionError("chunk " + i + " ran alone", e);
            }
        });
    }

    @Test
    void aChunksFailureIsRethrownAsItWas() {
        JvmBackend jvm = new JvmBackend(2);
        IllegalStateException thrown = new IllegalStateException("chunk 5");
        IllegalStateException caught = assertThrows(IllegalStateException.class, () -> jvm.parallelFor(8, i -> {
            if (i == 5) {
                throw thrown;
            }
        }));
        assertSame(thrown, caught);
        AtomicIntegerArray after = new AtomicIntegerArray(8);
        jvm.parallelFor(8, after::incrementAndGet);
        for (int i = 0; i < 8; i++) {
            assertEquals(1, after.get(i), "the team still works after a failure");
        }
    }

    @Test
    void nestedAndConcurrentLoopsComplete() throws Exception {
        JvmBackend jvm = new JvmBackend(2);
        int outer = 16;
        int inner = 10_000;
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            Future<?>[] runs = new Future<?>[3];
            AtomicIntegerArray[] seen = new AtomicIntegerArray[3];
            for (int c = 0; c < runs.length; c++) {
                AtomicIntegerArray s = seen[c] = new AtomicIntegerArray(outer * inner);
                runs[c] = callers.submit(() -> jvm.parallelFor(outer, o -> jvm.parallelRange(inner, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        s.incrementAndGet(o * inner + i);
                    }
                })));
            }
            for (int c = 0; c < runs.length; c++) {
                runs[c].get(60, TimeUnit.SECONDS);
                for (int i = 0; i < outer * inner; i++) {
                    assertEquals(1, seen[c].get(i), "caller " + c + ", index " + i);
                }
            }
        } finally {
            callers.shutdownNow();
        }
        assertTrue(callers.awaitTermination(10, TimeUnit.SECONDS));
    }
}
