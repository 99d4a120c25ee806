package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingLoop;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Group relative policy optimisation (Shao et al. 2024, DeepSeekMath §4.1; TRL's GRPOTrainer): PPO without a value
 * model. Each iteration samples G responses to each of P prompts on the device, scores them (a reward model at the
 * last real token, or a {@link RewardFunction}), and gives every token of a response its advantage relative to its
 * group, (r − mean)/(std + 1e-4). Then {@code epochs} optimizer steps (TRL's μ), each over all the iteration's
 * responses, of PPO's clipped objective plus β·k3 KL to the reference (the SFT model) per token, both averaged over
 * every response token of the iteration (TRL's token-level normalisation); or, with {@code klInReward}, the
 * response's KL Σ(log π − log π_ref) times β subtracted from its reward before the groups are formed, and no penalty
 * in the loss. metrics.jsonl per iteration: reward, reward_std (within groups), kl (per response), entropy, clipfrac,
 * resp_len, and labeler when a judge is given.
 */
public final class Grpo implements AutoCloseable {

    /**
     * @param prompts  prompts per iteration on each rank (P); each gets {@code group} responses
     * @param batch    rows per micro-batch (P·G must be a multiple): memory, not the objective
     * @param epochs   optimizer steps per iteration's responses (TRL's μ; 1: the ratio is 1 and nothing is clipped)
     */
    public record Settings(int iterations, int prompts, int group, int batch, int epochs, int maxResponse, Trainer.Options policy, float clip,
            float beta, boolean klInReward, int evalEvery, long seed, Path out) {

        public Settings {
            if (prompts * group % batch != 0) {
                throw new dev.tgpt.engine.UserError("responses per iteration (" + prompts + " prompts × " + group
                        + ") must be a multiple of the micro-batch (" + batch + ")");
            }
            if (group < 2) {
                throw new dev.tgpt.engine.UserError("a group needs at least 2 responses, not " + group);
            }
        }
    }

    public record Result(int iterations, double reward, double kl, Path checkpoint) {
    }

    /** The reward of each rollout: a reward model's score, or a reward function's. */
    public interface Rewards extends AutoCloseable {
        float[] score(List<Sequences> rollouts, List<Boolean> ended);

        @Override
        default void close() {
        }
    }

    private final Settings s;
    private final Tokenizer tokenizer;
    private final List<int[]> prompts;
    private final int T;
    private final int R;
    private final Gpt policyModel;
    private final GrpoHead head;
    private final Rollouts rollouts;
    private final Trainer policy;
    private final Scorer reference;
    private final Rewards rewards;
    private final Collective world;

    /**
     * @param policyModel the SFT model, trained in place
     * @param referenceModel a frozen copy of it
     */
    public Grpo(Gpt policyModel, Gpt referenceModel, Rewards rewards, Tokenizer tokenizer, List<String> prompts, Backend backend, Settings s) {
        this.s = s;
        this.tokenizer = tokenizer;
        this.policyModel = policyModel;
        this.rewards = rewards;
        this.prompts = Ppo.encode(prompts, tokenizer);
        T = Ppo.length(this.prompts, s.maxResponse(), policyModel.config.context());
        Collections.shuffle(this.prompts, new Random(s.seed()));
        world = s.policy().world();
        R = s.prompts() * s.group();
        head = new GrpoHead(s.batch(), T, s.clip(), s.klInReward() ? 0f : s.beta());
        rollouts = new Rollouts(policyModel, R, T, Sequences.eos(tokenizer), world.rank() * R);
        // with LoRA the reference is the policy's weights, adapters off: it scores in the policy's session (one device copy)
        boolean shared = referenceModel.params == policyModel.params;
        reference = shared ? Scorer.hosted(referenceModel, s.batch(), T, null) : new Scorer(referenceModel, backend, s.batch(), T, null);
        policy = new Trainer(policyModel, backend, s.policy().batch(s.batch()).context(T), head,
                shared ? new Program[] { rollouts.start, rollouts.step, reference.program() } : new Program[] { rollouts.start, rollouts.step });
        if (shared) {
            reference.runIn(policy);
        }
    }

    /** A reward model's score at each rollout's last real token, in batches of B. */
    public static Rewards model(Gpt rewardModel, RewardHead rewardHead, Backend backend, int B, int T) {
        RewardHead h = rewardHead.reshaped(B, 1);
        Scorer scorer = new Scorer(rewardModel, backend, B, T, h);
        return new Rewards() {
            @Override
            public float[] score(List<Sequences> rows, List<Boolean> ended) {
                float[] out = new float[rows.size()];
                for (int from = 0; from < rows.size(); from += B) {
                    int f = from;
                    scorer.score((inputs, targets) -> {
                        for (int b = 0; b < B; b++) {
                            Sequences q = rows.get(f + b);
                            q.fill(b, T, inputs, targets);
                            h.rows.set(b, b * T + q.last());
                        }
                    });
                    for (int b = 0; b < B; b++) {
                        out[f + b] = h.rewards.get(b);
                    }
                }
                return out;
            }

            @Override
            public void close() {
                scorer.close();
            }
        };
    }

    /** A reward function's score of each rollout's text (the response without its end token). */
    public static Rewards function(RewardFunction f, Tokenizer tokenizer) {
        return (rows, ended) -> {
            float[] out = new float[rows.size()];
            for (int i = 0; i < out.length; i++) {
                Sequences q = rows.get(i);
                int[] response = Rollouts.responseTokens(q);
                String text = tokenizer.decode(ended.get(i) ? java.util.Arrays.copyOf(response, response.length - 1) : response);
                String prompt = tokenizer.decode(java.util.Arrays.copyOf(q.tokens(), q.promptLength()));
                out[i] = (float) f.score(prompt, text, ended.get(i));
            }
            return out;
        };
    }

    public Result run(Ppo.Judge judge, TrainingRun.Listener listener) {
        double[] last = { Double.NaN, Double.NaN };
        Path ckpt = TrainingRun.checkpointDir(s.out());
        TrainingLoop.Job job = new TrainingLoop.Job() {
            @Override
            public void step(int it, Map<String, Object> record) {
                List<Sequences> seqs = rollout(it);
                List<Boolean> ended = seqs.stream().map(rollouts::ended).toList();
                iterate(seqs, ended, record);
                if (judge != null) {
                    List<String> texts = new ArrayList<>();
                    for (Sequences q : seqs) {
                        texts.add(tokenizer.decode(Rollouts.responseTokens(q)));
                    }
                    record.put("labeler", judge.score(texts, ended));
                }
                last[0] = (double) record.get("reward");
                last[1] = (double) record.get("kl");
            }

            @Override
            public void checkpoint(int it, boolean writer) {
                policy.save(ckpt, tokenizer, writer);
            }
        };
        TrainingLoop.of("GRPO", s.iterations()).ranksOf(policy).unit("iteration").watch("reward", "kl").evalEvery(s.evalEvery()).run(job, 0, world, s.out(), listener);
        return new Result(s.iterations(), last[0], last[1], ckpt);
    }

    /** This rank's P prompts of iteration it (the whole iteration's prompts r·P.. of ranks·P), each G times in a row. */
    private List<Sequences> rollout(int it) {
        List<int[]> chosen = new ArrayList<>();
        for (int p = 0; p < s.prompts(); p++) {
            int[] prompt = prompts.get((int) (((long) (it - 1) * s.prompts() * world.size() + world.rank() * s.prompts() + p) % prompts.size()));
            for (int g = 0; g < s.group(); g++) {
                chosen.add(prompt);
            }
        }
        return rollouts.generate(policy, chosen, (int) (s.seed() * 31 + it));
    }

    /** Scores, advantages and the optimizer steps of one iteration's rollouts; its figures into record. */
    private void iterate(List<Sequences> seqs, List<Boolean> ended, Map<String, Object> record) {
        int B = s.batch();
        int N = B * T;
        float[] mask = new float[R * T];
        float[] logp = new float[R * T];
        float[] refLogp = new float[R * T];
        float[] entropy = new float[R * T];
        for (int from = 0; from < R; from += B) {
            int f = from;
            Trainer.BatchSource rows = (inputs, targets) -> fill(seqs, f, inputs, targets);
            head.policy.weights.clear();
            policy.evaluate(rows, 1);
            reference.score(rows);
            IntArray targets = reference.activations().targets;
            for (int n = 0; n < N; n++) {
                int i = f * T + n;
                boolean response = targets.get(n) >= 0;
                mask[i] = response ? 1f : 0f;
                logp[i] = response ? -policy.activations().losses.get(n) : 0f;
                refLogp[i] = response ? -reference.activations().losses.get(n) : 0f;
                entropy[i] = head.policy.entropy.get(n);
            }
        }
        float[] scores = rewards.score(seqs, ended);
        double[] kls = new double[R];
        for (int i = 0; i < R * T; i++) {
            kls[i / T] += mask[i] * (logp[i] - refLogp[i]);
        }
        float[] shaped = scores.clone();
        if (s.klInReward()) {
            for (int b = 0; b < R; b++) {
                shaped[b] -= (float) (s.beta() * kls[b]);
            }
        }
        float[] advantages = Advantages.grouped(shaped, s.group());
        double[] sums = new double[6];
        for (int b = 0; b < R; b++) {
            sums[0] += scores[b];
            sums[1] += kls[b];
        }
        for (int g = 0; g < R; g += s.group()) {
            sums[2] += Advantages.groupStd(scores, g, s.group());
        }
        for (int i = 0; i < R * T; i++) {
            sums[3] += mask[i];
            sums[4] += mask[i] * entropy[i];
        }
        world.allReduceSum(sums);
        double tokens = sums[3];
        double all = (double) R * world.size();
        record.put("reward", sums[0] / all);
        record.put("reward_std", sums[2] / (all / s.group()));
        record.put("kl", sums[1] / all);
        record.put("entropy", tokens == 0 ? 0 : sums[4] / tokens);
        record.put("resp_len", tokens / all);
        double clipped = 0;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            double[] stats = new double[2];
            List<Trainer.MicroBatch> micro = new ArrayList<>();
            for (int from = 0; from < R; from += B) {
                int f = from;
                micro.add(new Trainer.MicroBatch() {
                    @Override
                    public float fill(IntArray inputs, IntArray targets) {
                        Grpo.this.fill(seqs, f, inputs, targets);
                        for (int n = 0; n < N; n++) {
                            int i = f * T + n;
                            head.policy.oldLogp.set(n, logp[i]);
                            head.policy.advantages.set(n, mask[i] * advantages[i / T]);
                            head.policy.weights.set(n, tokens == 0 ? 0f : (float) (mask[i] / tokens));
                            head.refLogp.set(n, refLogp[i]);
                        }
                        return 0f;
                    }

                    @Override
                    public void ran() {
                        for (int n = 0; n < N; n++) {
                            if (head.policy.weights.get(n) > 0) {
                                double r = Math.exp(-policy.activations().losses.get(n) - head.policy.oldLogp.get(n));
                                stats[0] += Math.abs(r - 1) > s.clip() ? 1 : 0;
                                stats[1]++;
                            }
                        }
                    }
                });
            }
            policy.trainStep(micro);
            world.allReduceSum(stats);
            clipped += stats[1] == 0 ? 0 : stats[0] / stats[1];
        }
        record.put("clipfrac", clipped / s.epochs());
    }

    private void fill(List<Sequences> seqs, int from, IntArray inputs, IntArray targets) {
        for (int b = 0; b < s.batch(); b++) {
            seqs.get(from + b).fill(b, T, inputs, targets);
        }
    }

    @Override
    public void close() {
        policy.close();
        reference.close();
        rewards.close();
    }
}
