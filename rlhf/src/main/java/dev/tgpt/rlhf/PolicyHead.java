package dev.tgpt.rlhf;

import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.PpoOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Head;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * PPO's clipped policy objective on the language model's own outputs, with no parameters of its own: the model's
 * cross-entropy already gives −log π(a_t) for each sampled token (the targets), so the objective
 * max(−A·ρ, −A·clip(ρ, 1 ± ε)), ρ = π/π_old, and its gradient with respect to those losses are per-token kernels. The
 * gradient goes into the model's d loss / d losses before its backward pass starts (hence in {@link #forward}), from
 * where the cross-entropy backward turns it into logit gradients. Tokens of weight 0 (prompts, padding, pretraining
 * rows of a PPO-ptx step) add nothing. Also gives each position's entropy, for the logs.
 */
public final class PolicyHead implements Head {

    final int N;
    /** Inputs per batch: the rollout's log π_old of each sampled token, the whitened advantages, the token weights, ε. */
    public final FloatArray oldLogp;
    public final FloatArray advantages;
    public final FloatArray weights;
    public final FloatArray hyper = new FloatArray(1);
    /** Outputs: each token's weighted clipped objective and the policy's entropy at each position. */
    public final FloatArray objective;
    public final FloatArray entropy;

    public PolicyHead(int batch, int context, float clip) {
        N = batch * context;
        oldLogp = new FloatArray(N);
        advantages = new FloatArray(N);
        weights = new FloatArray(N);
        hyper.set(0, clip);
        objective = new FloatArray(N);
        entropy = new FloatArray(N);
    }

    @Override
    public List<Object> inputs() {
        return List.of(oldLogp, advantages, weights, hyper);
    }

    @Override
    public List<Object> outputs() {
        return List.of(objective, entropy);
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        int V = a.logits.getSize() / N;
        return List.of(PpoOps.entropy(entropy, a.logits, a.logSumExp, N, V),
                PpoOps.policyForward(objective, a.losses, oldLogp, advantages, weights, hyper, N),
                PpoOps.policyBackward(a.dlosses, a.losses, oldLogp, advantages, weights, hyper, N));
    }
}
