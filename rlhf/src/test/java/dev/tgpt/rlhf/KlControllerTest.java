package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KlControllerTest {

    @Test
    void aFixedCoefficientNeverMoves() {
        KlController c = new KlController.Fixed(0.05f);
        c.update(100, 512);
        c.update(0, 512);
        assertEquals(0.05f, c.beta());
    }

    @Test
    void theAdaptiveControllerFollowsZieglersRule() {
        // Worked by hand: e = clamp(KL/6 − 1, −0.2, 0.2), β ← β·(1 + e·n/10000).
        KlController c = new KlController.Adaptive(0.2f, 6, 10000);
        assertEquals(0.2f, c.beta());
        c.update(12, 256); // e = clamp(1) = 0.2: β = 0.2 · 1.00512
        assertEquals(0.201024f, c.beta(), 1e-8f);
        c.update(6.6, 256); // e = 0.1: β = 0.201024 · 1.00256
        assertEquals(0.20153862144f, c.beta(), 1e-8f);
        c.update(0, 512); // e = clamp(−1) = −0.2: β = 0.20153862144 · 0.98976
        assertEquals(0.1994748659565f, c.beta(), 1e-8f);
        c.update(6, 256); // on target: e = 0
        assertEquals(0.1994748659565f, c.beta(), 1e-8f);
        c.update(-0.5, 256); // an estimate below zero is still below target: e = −0.2
        assertEquals(0.1994748659565f * 0.99488f, c.beta(), 1e-8f);
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new KlController.Adaptive(0, 6, 10000));
        assertThrows(IllegalArgumentException.class, () -> new KlController.Adaptive(0.1f, 6, 0));
        assertThrows(IllegalArgumentException.class, () -> new KlController.Fixed(-1));
        assertThrows(IllegalArgumentException.class, () -> new KlController.Adaptive(0.1f, 6, 100).update(Double.NaN, 1));
    }
}
