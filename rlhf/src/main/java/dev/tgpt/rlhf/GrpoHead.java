package dev.tgpt.rlhf;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.ops.GrpoOps;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Head;
import dev.tgpt.kernels.Grpo;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GRPO's objective on the language model's own outputs: PPO's clipped objective ({@link PolicyHead}, its advantage one
 * per response) plus β times the k3 estimate of KL(π ‖ π_ref) at each response token, weighed as the objective is
 * (TRL's GRPOTrainer). Both gradients go into the model's d loss / d losses before its backward pass starts. With β =
 * 0 (the KL in the reward instead) the penalty is 0.
 */
public final class GrpoHead implements Head {

    final PolicyHead policy;
    /** Inputs per batch: the reference's log-probability of each token, and β. */
    public final FloatArray refLogp;
    public final FloatArray hyper = new FloatArray(Grpo.HYPER_SIZE);
    /** Output: each token's weighted penalty. */
    public final FloatArray kl;
    private final int N;

    public GrpoHead(int batch, int context, float clip, float beta) {
        policy = new PolicyHead(batch, context, clip);
        N = batch * context;
        refLogp = new FloatArray(N);
        kl = new FloatArray(N);
        hyper.set(Grpo.BETA, beta);
    }

    @Override
    public List<Object> inputs() {
        List<Object> in = new ArrayList<>(policy.inputs());
        in.addAll(List.of(refLogp, hyper));
        return in;
    }

    @Override
    public List<Object> outputs() {
        List<Object> out = new ArrayList<>(policy.outputs());
        out.add(kl);
        return out;
    }

    @Override
    public List<Launch> forward(Gpt.Activations a) {
        List<Launch> out = new ArrayList<>(policy.forward(a));
        out.add(GrpoOps.klForward(kl, a.losses, refLogp, policy.weights, hyper, N));
        out.add(GrpoOps.klBackward(a.dlosses, a.losses, refLogp, policy.weights, hyper, N));
        return out;
    }
}
