package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SequencedSet;
import java.util.SplittableRandom;

import dev.tgpt.rlhf.data.Demonstration;

/**
 * The end-to-end demo's data, built from the Shakespeare corpus (data/tinyshakespeare.txt): a play's text where each
 * speech is a speaker line ending in ':' ("ROMEO:") at the start of a paragraph, then the speech's lines up to a blank
 * line.
 *
 * <p>Why these: the pretrained character-level model, given a speaker line, continues it with a first line of speech,
 * so a prompt is a speaker line ("ROMEO:\n") and a response is one line, ended by its newline. The {@link Labeler}
 * prefers positive lines; the corpus has plenty (about one first line in six scores 1 or more) but the model does not
 * favour them, so there is something for SFT on positive demonstrations, and then PPO against a reward model trained on
 * the labeler's rankings, to learn.
 */
public final class DemoData {

    /** One speech: its speaker line without the newline ("ROMEO:") and its first line without the newline. */
    public record Speech(String speaker, String firstLine) {
    }

    /** Items split in two: the first for training, the last {@code heldOut} for evaluation. */
    public record Split<T>(List<T> train, List<T> heldOut) {
    }

    private DemoData() {
    }

    /** The corpus's speeches in order; a speaker line followed by a blank line (a speech with no text) is none. */
    public static List<Speech> speeches(String corpus) {
        List<String> lines = corpus.lines().toList();
        List<Speech> speeches = new ArrayList<>();
        for (int i = 0; i + 1 < lines.size(); i++) {
            String line = lines.get(i);
            boolean startsParagraph = i == 0 || lines.get(i - 1).isBlank();
            if (startsParagraph && line.length() > 1 && line.endsWith(":") && !lines.get(i + 1).isBlank()) {
                speeches.add(new Speech(line, lines.get(i + 1)));
            }
        }
        return speeches;
    }

    /**
     * Demonstrations of the labeler's taste: (speaker line + "\n", first line of the speech + "\n") for the speeches
     * whose first line scores at least 1, without repeats, in corpus order, at most {@code max}.
     */
    public static List<Demonstration> demonstrations(String corpus, Labeler labeler, int max) {
        requireMax(max);
        SequencedSet<Demonstration> demonstrations = new LinkedHashSet<>();
        for (Speech s : speeches(corpus)) {
            if (demonstrations.size() == max) {
                break;
            }
            if (labeler.score(s.firstLine(), true) >= 1) {
                demonstrations.add(new Demonstration(s.speaker() + "\n", s.firstLine() + "\n"));
            }
        }
        return List.copyOf(demonstrations);
    }

    /** The distinct speaker lines, each with its "\n", shuffled by a seeded generator; at most {@code max}. */
    public static List<String> prompts(String corpus, int max, long seed) {
        requireMax(max);
        SequencedSet<String> distinct = new LinkedHashSet<>();
        for (Speech s : speeches(corpus)) {
            distinct.add(s.speaker() + "\n");
        }
        List<String> prompts = new ArrayList<>(distinct);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = prompts.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            prompts.set(j, prompts.set(i, prompts.get(j)));
        }
        return List.copyOf(prompts.subList(0, Math.min(max, prompts.size())));
    }

    /** The last {@code heldOut} items for evaluation (prompts the policy never trained on), the rest for training. */
    public static <T> Split<T> split(List<T> items, int heldOut) {
        if (heldOut < 0 || heldOut >= items.size()) {
            throw new IllegalArgumentException("cannot hold out " + heldOut + " of " + items.size() + " items and train on the rest");
        }
        int cut = items.size() - heldOut;
        return new Split<>(List.copyOf(items.subList(0, cut)), List.copyOf(items.subList(cut, items.size())));
    }

    private static void requireMax(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("at most " + max + " items");
        }
    }
}
