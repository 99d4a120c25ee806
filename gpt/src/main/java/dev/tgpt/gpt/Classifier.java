package dev.tgpt.gpt;

import java.util.List;
import java.util.SplittableRandom;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.GatherOps;
import dev.tgpt.engine.ops.MatmulOps;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * GPT-1's classification head (Radford et al. 2018, §3.2): a linear layer W_y on the final hidden state of each
 * sequence's last token, P(y | x) = softmax(h·W_yᵀ), trained by cross-entropy. Named score.weight [K, C], without
 * bias, as Hugging Face's GPT2ForSequenceClassification names it.
 */
public final class Classifier implements Head {

    public final int classes;
    final int B;
    final int C;
    /** W_y: [classes, C]. */
    public final FloatArray weight;
    final FloatArray dweight;
    /** Each sequence's class, and the row (b·T + its last token) the head reads: set per batch. */
    public final IntArray labels;
    public final IntArray rows;
    /** d loss / d losses[b]: 1/B for the batch's mean. */
    final FloatArray dlosses;
    final FloatArray hidden;
    final FloatArray dhidden;
    final FloatArray logSumExp;
    final FloatArray dlogits;
    /** The batch's class logits [B, classes] and per-sequence losses [B], copied out every run. */
    public final FloatArray logits;
    public final FloatArray losses;
    private final Parameters.Tensor tensor;

    /** A new head with GPT-2's initialisation (N(0, 0.02²)). */
    public Classifier(int classes, int batch, int channels, long seed) {
        this.classes = classes;
        this.B = batch;
        this.C = channels;
        weight = new FloatArray(classes * channels);
        Parameters.normal(weight, 0.02, new SplittableRandom(seed));
        dweight = new FloatArray(classes * channels);
        labels = new IntArray(batch);
        rows = new IntArray(batch);
        dlosses = new FloatArray(batch);
        dlosses.init(1f / batch);
        hidden = new FloatArray(batch * channels);
        dhidden = new FloatArray(batch * channels);
        logSumExp = new FloatArray(batch);
        dlogits = new FloatArray(batch * classes);
        logits = new FloatArray(batch * classes);
        losses = new FloatArray(batch);
        tensor = new Parameters.Tensor("score.weight", new int[] { classes, channels }, false, true, false, weight);
    }

    @Override
    public List<Parameters.Tensor> tensors() {
        return List.of(tensor);
    }

    @Override
    public List<FloatArray> gradients() {
        return List.of(dweight);
    }

    @Override
    public List<Object> state() {
        return List.of(weight, dweight, dlosses, hidden, dhidden, logSumExp, dlogits);
    }

    @Override
    public List<Object> inputs() {
        return List.of(labels, rows);
    }

    @Override
    public List<Object> outputs() {
        return List.of(logits, losses);
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        return List.of(GatherOps.forward(hidden, a.finalHidden(), rows, B, C), MatmulOps.forward(logits, hidden, weight, null, B, C, classes),
                CrossEntropyOps.forward(losses, logSumExp, logits, labels, B, classes));
    }

    @Override
    public List<Launch> backward(Gpt.Activations a) {
        List<Launch> out = new java.util.ArrayList<>();
        out.add(FillOps.fill(dlogits, 0f));
        out.add(CrossEntropyOps.backward(dlogits, logits, logSumExp, labels, dlosses, B, classes));
        out.add(FillOps.fill(dhidden, 0f));
        out.addAll(MatmulOps.backward(dhidden, dweight, null, dlogits, hidden, weight, B, C, classes));
        out.add(GatherOps.backward(a.finalHiddenGradient(), dhidden, rows, B, C));
        return out;
    }

    /** The predicted class of sequence b in the last run. */
    public int predicted(int b) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
            if (logits.get(b * classes + k) > logits.get(b * classes + best)) {
                best = k;
            }
        }
        return best;
    }
}
