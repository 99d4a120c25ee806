package dev.tgpt.gpt.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Texts with class labels, for GPT-1-style fine-tuning: JSONL, one {"text": ..., "label": ...} per line (a label is a
 * string or a number). Each text keeps its last {@code context} tokens, so its final token, which the classifier
 * reads, is the text's own.
 */
public final class Labelled {

    /** A tokenised text and its class index. */
    public record Example(int[] tokens, int label) {
    }

    private final List<Example> examples;
    private final List<String> labels;

    private Labelled(List<Example> examples, List<String> labels) {
        this.examples = examples;
        this.labels = labels;
    }

    public List<Example> examples() {
        return examples;
    }

    /** The class names, index = class. */
    public List<String> labels() {
        return labels;
    }

    /**
     * @param labels the classes, in index order; null to take the sorted distinct labels of this file (a training set)
     */
    public static Labelled read(Path file, Tokenizer tokenizer, List<String> labels, int context) {
        List<String> texts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        for (Jsonl.Line line : Jsonl.read(file)) {
            JsonNode n = line.json();
            if (!n.path("text").isTextual() || !(n.path("label").isTextual() || n.path("label").isNumber())) {
                throw line.error("expected {\"text\": \"...\", \"label\": ...} with a string or number label");
            }
            if (n.get("text").asText().isEmpty()) {
                throw line.error("the text is empty");
            }
            texts.add(n.get("text").asText());
            names.add(n.get("label").asText());
            lineNumbers.add(line.number());
        }
        if (texts.isEmpty()) {
            throw new UserError(file + " holds no examples");
        }
        List<String> classes = labels != null ? labels : List.copyOf(new TreeSet<>(names));
        if (classes.size() < 2) {
            throw new UserError(file + " has only the label '" + classes.getFirst() + "': classification needs at least two");
        }
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int label = classes.indexOf(names.get(i));
            if (label < 0) {
                throw new UserError(file + ":" + lineNumbers.get(i) + ": label '" + names.get(i) + "' is not one of the training labels " + classes);
            }
            int[] tokens = tokenizer.encode(texts.get(i));
            if (tokens.length > context) {
                tokens = Arrays.copyOfRange(tokens, tokens.length - context, tokens.length);
            }
            examples.add(new Example(tokens, label));
        }
        return new Labelled(List.copyOf(examples), classes);
    }

    /**
     * Fills a batch from examples [from, from + B) (wrapping around): tokens padded with 0 to T; language-modelling
     * targets the next token inside each text, -1 elsewhere; the classifier's row (b·T + last token) and label.
     */
    public void fill(int from, IntArray tokens, IntArray targets, IntArray rows, IntArray labels, int B, int T) {
        for (int b = 0; b < B; b++) {
            Example e = examples.get((from + b) % examples.size());
            int n = e.tokens().length;
            for (int t = 0; t < T; t++) {
                tokens.set(b * T + t, t < n ? e.tokens()[t] : 0);
                targets.set(b * T + t, t < n - 1 ? e.tokens()[t + 1] : -1);
            }
            rows.set(b, b * T + n - 1);
            labels.set(b, e.label());
        }
    }

    /** A training order: the examples shuffled by a seeded generator, one epoch after another. */
    public int[] shuffled(long seed) {
        int[] order = new int[examples.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** The same examples in another order. */
    public Labelled reordered(int[] order) {
        List<Example> e = new ArrayList<>();
        for (int i : order) {
            e.add(examples.get(i));
        }
        return new Labelled(e, labels);
    }
}
