package dev.tgpt.rlhf;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.DpoOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.RankingOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Head;
import dev.tgpt.kernels.Dpo;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * DPO's objective on the language model's own outputs, with no parameters of its own (Rafailov et al. 2023): P pairs
 * of rows, chosen (row 2p) and rejected (2p + 1); a row's log-probability is the sum of its response tokens' −loss,
 * its implicit reward β·(log π − log π_ref), and a pair's loss −log σ(r_chosen − r_rejected), the reward model's
 * ranking loss with K = 2. The gradient goes into the model's d loss / d losses before its backward pass starts (hence
 * in {@link #forward}), as {@link PolicyHead}'s does. With β = 1 and ref = 0 the rewards are the log-probabilities,
 * which is how the reference model's are computed once, before training.
 */
public final class DpoHead implements Head {

    public final int P;
    /** Inputs per batch: each row's reference log-probability, each pair's rows in use (2, or 0 for a filler pair) and its weight in the mean, β. */
    public final FloatArray ref;
    public final IntArray counts;
    public final FloatArray weights;
    public final FloatArray hyper = new FloatArray(Dpo.HYPER_SIZE);
    final FloatArray drewards;
    /** Outputs: each row's implicit reward and each pair's loss. */
    public final FloatArray rewards;
    public final FloatArray losses;

    public DpoHead(int pairs, float beta) {
        P = pairs;
        ref = new FloatArray(2 * P);
        counts = new IntArray(P);
        weights = new FloatArray(P);
        hyper.set(Dpo.BETA, beta);
        drewards = new FloatArray(2 * P);
        rewards = new FloatArray(2 * P);
        losses = new FloatArray(P);
    }

    public float beta() {
        return hyper.get(Dpo.BETA);
    }

    @Override
    public List<Object> state() {
        return List.of(drewards);
    }

    @Override
    public List<Object> inputs() {
        return List.of(ref, counts, weights, hyper);
    }

    @Override
    public List<Object> outputs() {
        return List.of(rewards, losses);
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        int B = 2 * P;
        int T = a.targets.getSize() / B;
        return List.of(DpoOps.rewards(rewards, a.losses, a.targets, ref, hyper, B, T), RankingOps.forward(losses, rewards, counts, P, 2),
                FillOps.fill(drewards, 0f), RankingOps.backward(drewards, rewards, counts, weights, P, 2),
                DpoOps.backward(a.dlosses, drewards, a.targets, hyper, B, T));
    }
}
