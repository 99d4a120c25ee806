package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void quartilesInterpolateLikeNumpy() {
        // numpy.percentile([4, 1, 3, 2, 10], [25, 50, 75]) = [2, 3, 4]; of [1, 2, 3, 4]: [1.75, 2.5, 3.25]
        Stats s = Stats.of(new double[] { 4, 1, 3, 2, 10 });
        assertEquals(5, s.runs());
        assertEquals(3, s.medianMs());
        assertEquals(2, s.p25Ms());
        assertEquals(4, s.p75Ms());
        assertEquals(1, s.minMs());
        assertEquals(10, s.maxMs());
        Stats e = Stats.of(new double[] { 1, 2, 3, 4 });
        assertEquals(2.5, e.medianMs(), 1e-12);
        assertEquals(1.75, e.p25Ms(), 1e-12);
        assertEquals(3.25, e.p75Ms(), 1e-12);
    }

    @Test
    void stableMeansANarrowMiddleHalfAndAMedianNearTheFastestRun() {
        assertTrue(Stats.of(new double[] { 1.0, 1.05, 1.1, 1.1, 0.95, 3 }).stable(), "one slow run does not move the quartiles");
        Stats wide = Stats.of(new double[] { 1, 1, 2, 2, 3, 3 });
        assertEquals(0.75, wide.spread(), 1e-12); // quartiles 1.25 and 2.75 around a median of 2
        assertFalse(wide.stable());
        // residual.forward in the issue: a median of 1.12 ms, the fastest run 0.05 ms
        assertFalse(Stats.of(new double[] { 0.05, 1.1, 1.12, 1.12, 1.15 }).stable());
    }
}
