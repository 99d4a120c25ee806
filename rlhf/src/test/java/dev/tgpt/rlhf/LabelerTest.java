package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

class LabelerTest {

    private final Labeler labeler = new Labeler(0);

    @Test
    void scoresDistinctPositiveMinusDistinctNegativeWords() {
        assertEquals(0, labeler.score("", true));
        assertEquals(2, labeler.score("O sweet love!\n", true));
        assertEquals(1, labeler.score("Love, love, LOVE.", true), "distinct words count once, in any case");
        assertEquals(1, labeler.score("Love's labour", true), "an apostrophe ends a word");
        assertEquals(0, labeler.score("Gloves and lovers, goodly sweetness", true), "whole words only");
        assertEquals(-2, labeler.score("Death and blood!", true));
        assertEquals(0, labeler.score("Good death", true));
        assertEquals(1, labeler.score("good-day,sweet;death", true), "any non-letter separates words");
        assertEquals(-1, labeler.score("But soft", false), "not ending costs one");
        assertEquals(2, labeler.score("sweet gentle love", false));
    }

    @Test
    void theListsAreDisjointLowerCaseWords() {
        assertTrue(Labeler.POSITIVE.size() >= 30 && Labeler.NEGATIVE.size() >= 30);
        assertTrue(Collections.disjoint(Labeler.POSITIVE, Labeler.NEGATIVE));
        Stream.concat(Labeler.POSITIVE.stream(), Labeler.NEGATIVE.stream()).forEach(w -> assertTrue(w.chars().allMatch(Character::isLowerCase), w));
    }

    @Test
    void withoutNoiseRanksByScoreKeepingTiesInOrder() {
        List<String> r = List.of("war", "joy", "plain", "sweet love", "also plain", "joy and peace but", "joy");
        List<Boolean> ended = List.of(true, true, true, true, true, false, false);
        // scores: −1, 1, 0, 2, 0, 2 − 1 = 1, 1 − 1 = 0
        assertEquals(List.of("sweet love", "joy", "joy and peace but", "plain", "also plain", "joy", "war"),
                labeler.rank(r, ended, new SplittableRandom(1)));
    }

    @Test
    void noiseSometimesSwapsResponsesOnePointApart() {
        Labeler noisy = new Labeler(Labeler.DEFAULT_NOISE);
        SplittableRandom random = new SplittableRandom(42);
        int swapped = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            if (noisy.rank(List.of("plain", "joy"), List.of(true, true), random).getFirst().equals("plain")) {
                swapped++;
            }
        }
        // Φ(−1/(0.5·√2)) = 0.0786; the binomial's standard deviation over 20000 is 0.0019
        assertEquals(0.0786, swapped / (double) n, 0.01);
        assertEquals(noisy.rank(List.of("a", "b", "c"), List.of(true, true, true), new SplittableRandom(7)),
                noisy.rank(List.of("a", "b", "c"), List.of(true, true, true), new SplittableRandom(7)), "the same seed, the same ranking");
    }

    @Test
    void winRateCountsTiesAsHalf() {
        List<Boolean> t = List.of(true, true, true, true);
        // a wins, ties, loses, ties (a did not end: 1 − 1 = 0 against 0)
        double rate = labeler.winRate(List.of("joy", "plain", "woe", "joy"), List.of(true, true, true, false),
                List.of("plain", "other", "plain", "plain"), t);
        assertEquals((1 + 0.5 + 0 + 0.5) / 4, rate);
        assertEquals(0.5, labeler.winRate(List.of("x"), List.of(true), List.of("x"), List.of(true)));
        assertEquals(1, new Labeler(3).winRate(List.of("joy"), List.of(true), List.of("woe"), List.of(true)), "win rates ignore the noise");
        assertThrows(IllegalArgumentException.class, () -> labeler.winRate(List.of("a"), List.of(true), List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> labeler.rank(List.of("a"), List.of(), new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> new Labeler(-1));
    }
}
