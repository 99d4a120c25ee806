package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.MatmulOps;
import dev.tgpt.engine.ops.PpoOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Head;
import dev.tgpt.gpt.Parameters;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * PPO's value function: V = h·w + b at every position, trained with the clipped value loss
 * ½·max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²) weighted per token. It starts from the reward model's head, as
 * InstructGPT's value function starts from the reward model.
 */
public final class ValueHead implements Head {

    final int N;
    final int C;
    final FloatArray weight;
    final FloatArray bias;
    final FloatArray dbias = new FloatArray(1);
    final FloatArray dvalues;
    /** Inputs per batch: the rollout's values and returns, each token's weight (mask / count) and ε. */
    public final FloatArray oldValues;
    public final FloatArray returns;
    public final FloatArray weights;
    public final FloatArray hyper = new FloatArray(1);
    /** Outputs: the values [B·T] and each token's weighted loss. */
    public final FloatArray values;
    public final FloatArray losses;
    private final FloatArray dw;
    private final List<Parameters.Tensor> tensors;

    public ValueHead(RewardHead from, int batch, int context, float clip) {
        N = batch * context;
        C = from.C;
        RewardHead copy = from.reshaped(1, 1);
        weight = copy.weight;
        bias = copy.bias;
        dw = new FloatArray(C);
        dvalues = new FloatArray(N);
        oldValues = new FloatArray(N);
        returns = new FloatArray(N);
        weights = new FloatArray(N);
        hyper.set(0, clip);
        values = new FloatArray(N);
        losses = new FloatArray(N);
        tensors = List.of(new Parameters.Tensor("value.weight", new int[] { 1, C }, false, true, false, weight),
                new Parameters.Tensor("value.bias", new int[] { 1 }, false, false, false, bias));
    }

    @Override
    public List<Parameters.Tensor> tensors() {
        return tensors;
    }

    @Override
    public List<FloatArray> gradients() {
        return List.of(dw, dbias);
    }

    @Override
    public List<Object> state() {
        return List.of(weight, bias, dw, dbias, dvalues);
    }

    @Override
    public List<Object> inputs() {
        return List.of(oldValues, returns, weights, hyper);
    }

    @Override
    public List<Object> outputs() {
        return List.of(values, losses);
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        return List.of(MatmulOps.forward(values, a.finalHidden(), weight, bias, N, C, 1),
                PpoOps.valueForward(losses, values, oldValues, returns, weights, hyper, N));
    }

    @Override
    public List<Launch> backward(Gpt.Activations a) {
        List<Launch> out = new ArrayList<>();
        out.add(FillOps.fill(dvalues, 0f));
        out.add(PpoOps.valueBackward(dvalues, values, oldValues, returns, weights, hyper, N));
        out.addAll(MatmulOps.backward(a.finalHiddenGradient(), dw, dbias, dvalues, a.finalHidden(), weight, N, C, 1));
        return out;
    }

    /** The weighted value loss of the last batch: Σ_n losses[n]. */
    public double loss() {
        double sum = 0;
        for (int n = 0; n < N; n++) {
            sum += losses.get(n);
        }
        return sum;
    }
}
