package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class ProtocolTest {

    @Test
    void warmUpSettlesWhenRunsStopGettingFaster() {
        assertFalse(Protocol.settled(List.of(5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0)), "fewer than two windows");
        assertTrue(Protocol.settled(List.of(9.0, 5.0, 5.1, 4.9, 5.0, 5.2, 5.0, 4.8, 5.1, 5.0, 4.9)), "flat within 10%");
        assertFalse(Protocol.settled(List.of(200.0, 180.0, 150.0, 120.0, 100.0, 80.0, 60.0, 50.0, 40.0, 30.0)), "still compiling");
        assertTrue(Protocol.settled(List.of(1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0)), "getting slower is settled too");
    }

    @Test
    void warmUpRunsOnWhileRunsGetFaster() {
        // Runs that speed up as a JIT compiles, 10 ms × 0.7ⁱ down to 1 ms from the 7th: 20 ms of warm-up would stop
        // at the 3rd; the rule goes on until two windows are alike (~40 ms, under the 100 ms limit).
        AtomicInteger calls = new AtomicInteger();
        double[] ms = new Protocol(0.02, 5, 0, 5).time(() -> spin(Math.max(1, 10 * Math.pow(0.7, calls.getAndIncrement()))));
        assertEquals(10, ms.length, "two attempts of 5 runs, stable together");
        int warmUp = calls.get() - ms.length;
        assertTrue(warmUp >= 12, "warm-up stopped after " + warmUp + " runs");
    }

    @Test
    void twoAttemptsInARowMustAgree() {
        // attempts of 5 runs: 10 ms (a plateau), then 2 ms, then 2 ms: the first two together are not stable, so a
        // third attempt is made and the first is not kept. (A loaded machine can make two 2 ms attempts disagree too,
        // and so a fourth: hence at least, not exactly, three.)
        AtomicInteger calls = new AtomicInteger();
        double[] ms = new Protocol(0, 5, 0, 5).timedUntilStable(() -> spin(calls.getAndIncrement() < 5 ? 10 : 2));
        assertTrue(calls.get() >= 3 * 5, calls.get() + " runs");
        assertEquals(10, ms.length);
        assertTrue(Stats.of(ms).medianMs() < 5, java.util.Arrays.toString(ms));
    }

    @Test
    void aCaseThatNeverSettlesIsKeptUnstable() {
        AtomicInteger calls = new AtomicInteger();
        double[] ms = new Protocol(0, 5, 0, 5).timedUntilStable(() -> spin(calls.getAndIncrement() % 2 == 1 ? 10 : 2));
        assertEquals(Protocol.ATTEMPTS * 5, calls.get());
        assertFalse(Stats.of(ms).stable(), java.util.Arrays.toString(ms));
    }

    private static void spin(double ms) {
        long until = System.nanoTime() + (long) (ms * 1e6);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    @Test
    void warmUpWaitsForWindowRunsWithoutCompilation() {
        AtomicInteger calls = new AtomicInteger();
        new Protocol(0, 1, 0, 1).time(calls::incrementAndGet);
        assertTrue(calls.get() >= Protocol.WINDOW + 1, "ran " + calls.get() + " times");
    }
}
