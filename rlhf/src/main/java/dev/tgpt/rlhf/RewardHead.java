package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.GatherOps;
import dev.tgpt.engine.ops.MatmulOps;
import dev.tgpt.engine.ops.RankingOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Head;
import dev.tgpt.gpt.Parameters;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * InstructGPT's reward model head: a scalar r = h·w + b read at each response's last real token, trained on K-way
 * rankings with −1/C(K,2)·Σ log σ(r_w − r_l) over all pairs of one prompt (Ouyang et al. 2022, §3.5). The batch holds
 * P prompts × K response slots, so every response's forward pass is computed once for all the pairs it is in.
 * Named score.weight [1, C] and score.bias [1].
 */
public final class RewardHead implements Head {

    public final int P;
    public final int K;
    final int C;
    public final FloatArray weight;
    public final FloatArray bias;
    final FloatArray dweight;
    final FloatArray dbias;
    /** Per batch: the row (b·T + the last real token) of each response slot, and each prompt's number of responses. */
    public final IntArray rows;
    public final IntArray counts;
    /** d loss / d losses[p]: 1 / the batch's prompts, set per batch. */
    public final FloatArray dlosses;
    final FloatArray hidden;
    final FloatArray dhidden;
    final FloatArray drewards;
    /** Outputs: each slot's reward [P·K] and each prompt's ranking loss [P]. */
    public final FloatArray rewards;
    public final FloatArray losses;
    private final List<Parameters.Tensor> tensors;

    /** A new head, w ~ N(0, 0.02²) and b = 0, for P prompts of K response slots. */
    public RewardHead(int prompts, int slots, int channels, long seed) {
        P = prompts;
        K = slots;
        C = channels;
        int B = P * K;
        weight = new FloatArray(C);
        Parameters.normal(weight, 0.02, new SplittableRandom(seed));
        bias = new FloatArray(1);
        dweight = new FloatArray(C);
        dbias = new FloatArray(1);
        rows = new IntArray(B);
        counts = new IntArray(P);
        dlosses = new FloatArray(P);
        hidden = new FloatArray(B * C);
        dhidden = new FloatArray(B * C);
        drewards = new FloatArray(B);
        rewards = new FloatArray(B);
        losses = new FloatArray(P);
        tensors = List.of(new Parameters.Tensor("score.weight", new int[] { 1, C }, false, true, false, weight),
                new Parameters.Tensor("score.bias", new int[] { 1 }, false, false, false, bias));
    }

    /** A head with the same weights for another batch shape (scoring rollouts: P = their number, K = 1). */
    public RewardHead reshaped(int prompts, int slots) {
        RewardHead h = new RewardHead(prompts, slots, C, 0);
        copy(this, h);
        return h;
    }

    /** Copies w and b from one head to another (a value head starts from the reward model's). */
    static void copy(RewardHead from, RewardHead to) {
        for (int c = 0; c < from.C; c++) {
            to.weight.set(c, from.weight.get(c));
        }
        to.bias.set(0, from.bias.get(0));
    }

    @Override
    public List<Parameters.Tensor> tensors() {
        return tensors;
    }

    @Override
    public List<FloatArray> gradients() {
        return List.of(dweight, dbias);
    }

    @Override
    public List<Object> state() {
        return List.of(weight, bias, dweight, dbias, hidden, dhidden, drewards);
    }

    @Override
    public List<Object> inputs() {
        return List.of(rows, counts, dlosses);
    }

    @Override
    public List<Object> outputs() {
        return List.of(rewards, losses);
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        int B = P * K;
        return List.of(GatherOps.forward(hidden, a.finalHidden(), rows, B, C), MatmulOps.forward(rewards, hidden, weight, bias, B, C, 1),
                RankingOps.forward(losses, rewards, counts, P, K));
    }

    @Override
    public List<Launch> backward(Gpt.Activations a) {
        int B = P * K;
        List<Launch> out = new ArrayList<>();
        out.add(FillOps.fill(drewards, 0f));
        out.add(RankingOps.backward(drewards, rewards, counts, dlosses, P, K));
        out.add(FillOps.fill(dhidden, 0f));
        out.addAll(MatmulOps.backward(dhidden, dweight, dbias, drewards, hidden, weight, B, C, 1));
        out.add(GatherOps.backward(a.finalHiddenGradient(), dhidden, rows, B, C));
        return out;
    }
}
