package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A programmatic labeler that stands in for InstructGPT's people in the end-to-end demo on the character-level
 * Shakespeare model. Its preference is <b>positive sentiment</b>:
 * <ul>
 * <li>a response scores the number of distinct words from {@link #POSITIVE} it contains minus the number of distinct
 * words from {@link #NEGATIVE}; a word is a maximal run of letters, compared case-insensitively, so "Love's" holds
 * "love" but "glove" and "loved" do not;
 * <li>a response that did not end (no end of line within the length limit: the caller says so with {@code ended})
 * scores 1 less, so never ending never pays.
 * </ul>
 * Ranking adds Gaussian noise of standard deviation {@link #noise()} to each score, so rankings are imperfect as
 * people's are: with the default σ = 0.5 two responses one point apart are swapped about 8% of the time (Φ(−1/(σ√2))),
 * and responses with equal scores are ordered at random. Win rates compare scores without noise.
 */
public final class Labeler implements RewardFunction {

    /** The noise σ of the demo: a ranking that mostly agrees with the scores. */
    public static final double DEFAULT_NOISE = 0.5;

    /** Common words in the corpus that read as warm, hopeful or kind. */
    public static final Set<String> POSITIVE = Set.of("love", "loving", "lovely", "sweet", "fair", "good", "gentle", "joy", "happy",
            "dear", "kind", "noble", "grace", "gracious", "bless", "blessed", "heaven", "hope", "peace", "true", "honour", "honest",
            "merry", "smile", "laugh", "friend", "friends", "beauty", "glad", "delight", "comfort", "mercy", "virtue", "brave", "bright",
            "wise", "worthy", "welcome", "thanks", "praise", "pleasure", "content", "best", "joyful", "kiss");

    /** Common words in the corpus that read as violent, fearful or bitter. */
    public static final Set<String> NEGATIVE = Set.of("death", "dead", "die", "died", "kill", "murderer", "murder", "blood", "bloody",
            "hate", "grief", "woe", "curse", "cursed", "fear", "foul", "vile", "villain", "traitor", "treason", "poison", "plague",
            "sorrow", "weep", "tears", "despair", "wicked", "evil", "sin", "shame", "wrath", "war", "slain", "grave", "hell", "devil",
            "damned", "cruel", "tyrant", "wretch", "wretched", "false", "enemy", "fool", "sword");

    private final double noise;

    /** @param noise σ of the Gaussian noise added to scores when ranking; 0 ranks by score alone */
    public Labeler(double noise) {
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("the labeler's noise must be finite and not negative: " + noise);
        }
        this.noise = noise;
    }

    public double noise() {
        return noise;
    }

    /** As a reward function: the score of the response, whatever the prompt. */
    @Override
    public double score(String prompt, String response, boolean ended) {
        return score(response, ended);
    }

    /** Distinct positive words − distinct negative words, − 1 if the response did not end. */
    public double score(String response, boolean ended) {
        Set<String> words = new HashSet<>();
        int start = -1;
        for (int i = 0; i <= response.length(); i++) {
            boolean letter = i < response.length() && Character.isLetter(response.charAt(i));
            if (letter && start < 0) {
                start = i;
            } else if (!letter && start >= 0) {
                words.add(response.substring(start, i).toLowerCase(Locale.ROOT));
                start = -1;
            }
        }
        int score = 0;
        for (String w : words) {
            score += POSITIVE.contains(w) ? 1 : NEGATIVE.contains(w) ? -1 : 0;
        }
        return ended ? score : score - 1;
    }

    /**
     * The responses best first, by score plus Gaussian noise of σ {@link #noise()} drawn from {@code random} (one draw
     * per response, in order, whatever σ is). With σ = 0, responses of equal score keep their order.
     */
    public List<String> rank(List<String> responses, List<Boolean> ended, SplittableRandom random) {
        sameSize(responses, ended);
        double[] keys = new double[responses.size()];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            keys[i] = score(responses.get(i), ended.get(i)) + noise * random.nextGaussian();
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> keys[i]).reversed());
        return order.stream().map(responses::get).toList();
    }

    /** The fraction of pairs (a_i, b_i) in which a_i scores higher, a tie counting one half; no noise. */
    public double winRate(List<String> a, List<Boolean> aEnded, List<String> b, List<Boolean> bEnded) {
        sameSize(a, aEnded);
        sameSize(b, bEnded);
        if (a.size() != b.size() || a.isEmpty()) {
            throw new IllegalArgumentException("a win rate needs as many responses on each side, at least one: " + a.size() + " and "
                    + b.size());
        }
        double wins = 0;
        for (int i = 0; i < a.size(); i++) {
            double sa = score(a.get(i), aEnded.get(i));
            double sb = score(b.get(i), bEnded.get(i));
            wins += sa > sb ? 1 : sa == sb ? 0.5 : 0;
        }
        return wins / a.size();
    }

    private static void sameSize(List<String> responses, List<Boolean> ended) {
        if (responses.size() != ended.size()) {
            throw new IllegalArgumentException(responses.size() + " responses but " + ended.size() + " ended flags");
        }
    }
}
