package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tgpt.rlhf.data.Demonstration;

class DemoDataTest {

    private static final String CORPUS = """
            First Citizen:
            Before we proceed any further, hear me speak.

            ROMEO:
            O sweet love, thou art fair.
            And this I say:
            Nothing more.

            JULIET:

            ROMEO:
            O sweet love, thou art fair.

            TYBALT:
            Death and blood!

            Nurse:
            A good and gentle day to you.

            ROMEO:
            Peace, peace.
            """;

    private final Labeler labeler = new Labeler(0);

    @Test
    void findsSpeechesAtTheStartOfParagraphs() {
        // "And this I say:" ends in ':' inside a speech; JULIET's speech is empty
        assertEquals(List.of(new DemoData.Speech("First Citizen:", "Before we proceed any further, hear me speak."),
                new DemoData.Speech("ROMEO:", "O sweet love, thou art fair."), new DemoData.Speech("ROMEO:", "O sweet love, thou art fair."),
                new DemoData.Speech("TYBALT:", "Death and blood!"), new DemoData.Speech("Nurse:", "A good and gentle day to you."),
                new DemoData.Speech("ROMEO:", "Peace, peace.")), DemoData.speeches(CORPUS));
    }

    @Test
    void demonstrationsArePositiveFirstLinesWithoutRepeats() {
        List<Demonstration> all = List.of(new Demonstration("ROMEO:\n", "O sweet love, thou art fair.\n"),
                new Demonstration("Nurse:\n", "A good and gentle day to you.\n"), new Demonstration("ROMEO:\n", "Peace, peace.\n"));
        assertEquals(all, DemoData.demonstrations(CORPUS, labeler, 10));
        assertEquals(all.subList(0, 2), DemoData.demonstrations(CORPUS, labeler, 2));
        assertEquals(List.of(), DemoData.demonstrations(CORPUS, labeler, 0));
    }

    @Test
    void promptsAreTheDistinctSpeakerLinesShuffled() {
        List<String> p = DemoData.prompts(CORPUS, 10, 1);
        assertEquals(new HashSet<>(List.of("First Citizen:\n", "ROMEO:\n", "TYBALT:\n", "Nurse:\n")), new HashSet<>(p));
        assertEquals(4, p.size());
        assertEquals(p, DemoData.prompts(CORPUS, 10, 1), "the same seed, the same order");
        assertEquals(p.subList(0, 2), DemoData.prompts(CORPUS, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> DemoData.prompts(CORPUS, -1, 1));
    }

    @Test
    void splitsOffTheLastItems() {
        DemoData.Split<String> s = DemoData.split(List.of("a", "b", "c", "d"), 1);
        assertEquals(List.of("a", "b", "c"), s.train());
        assertEquals(List.of("d"), s.heldOut());
        assertThrows(IllegalArgumentException.class, () -> DemoData.split(List.of("a"), 1));
    }

    @Test
    void theShakespeareCorpusHasPlentyOfBoth() throws Exception {
        String corpus = Files.readString(Path.of("../data/tinyshakespeare.txt"));
        List<Demonstration> d = DemoData.demonstrations(corpus, labeler, Integer.MAX_VALUE);
        assertTrue(d.size() > 1000, d.size() + " demonstrations");
        assertTrue(d.stream().allMatch(x -> labeler.score(x.completion(), true) >= 1 && x.prompt().endsWith(":\n")));
        List<String> p = DemoData.prompts(corpus, Integer.MAX_VALUE, 3);
        assertTrue(p.size() > 200, p.size() + " prompts");
        assertNotEquals(p, DemoData.prompts(corpus, Integer.MAX_VALUE, 4));
        // every speech's first line, not just the positive ones: about one in six is positive
        double positive = d.size() / (double) DemoData.speeches(corpus).size();
        assertTrue(positive > 0.12 && positive < 0.25, "positive share " + positive);
    }
}
