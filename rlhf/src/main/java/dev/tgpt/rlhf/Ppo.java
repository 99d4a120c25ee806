package dev.tgpt.rlhf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Scorer;
import dev.tgpt.gpt.Trainer;
import dev.tgpt.gpt.TrainingLoop;
import dev.tgpt.gpt.TrainingRun;
import dev.tgpt.gpt.data.Batches;
import dev.tgpt.gpt.data.Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * InstructGPT's third step: PPO against a frozen reward model (Ouyang et al. 2022, §3.5; Ziegler et al. 2019). The
 * policy starts from SFT; a frozen copy of SFT is the reference; the value model starts from the reward model. Each
 * iteration samples R responses on the device, scores them (the policy's and the reference's log-probabilities, the
 * values, the reward at each response's last real token), forms per-token rewards r_t = −β·(log π − log π_SFT) plus
 * the reward model's score at the last token, GAE advantages (whitened) and returns, then runs {@code epochs} passes
 * of minibatch updates of the clipped policy and value losses. PPO-ptx adds γ times the pretraining language-modelling
 * loss of one pretraining batch to every policy step. metrics.jsonl per iteration: reward, kl, entropy, clipfrac,
 * approx_kl, value_loss, explained_var, resp_len, beta, and pretrain_loss when measured.
 */
public final class Ppo implements AutoCloseable {

    /**
     * @param rollouts    responses sampled per iteration (R)
     * @param batch       sequences per minibatch update (R must be a multiple)
     * @param maxResponse tokens a response may have at most
     * @param ptx         γ, the pretraining loss's coefficient (0: plain PPO)
     */
    public record Settings(int iterations, int rollouts, int batch, int epochs, int maxResponse, Trainer.Options policy, Trainer.Options value,
            float clip, float valueClip, float gamma, float lambda, KlController kl, float ptx, int evalEvery, int evalBatches, long seed, Path out) {

        public Settings {
            if (rollouts % batch != 0) {
                throw new UserError("rollouts per iteration (" + rollouts + ") must be a multiple of the minibatch size (" + batch + ")");
            }
        }
    }

    /** What the labeler (or any judge outside the loop) thinks of an iteration's responses: logged, never trained on. */
    public interface Judge {
        double score(List<String> responses, List<Boolean> ended);
    }

    public record Result(int iterations, double reward, double kl, Double pretrainLossStart, Double pretrainLoss, Path checkpoint) {
    }

    private final Settings s;
    private final Tokenizer tokenizer;
    private final List<int[]> prompts;
    private final Batches pretrain;
    private final Batches pretrainVal;
    private final int T;
    private final int N;
    private final Gpt policyModel;
    private final PolicyHead policyHead;
    private final ValueHead valueHead;
    private final RewardHead rewardHead;
    private final Rollouts rollouts;
    private final Trainer policy;
    private final Trainer value;
    private final Scorer reference;
    private final Scorer reward;
    private final Collective world;
    /** Rollouts per iteration over all ranks (each samples {@code s.rollouts()}). */
    private final int all;
    /** Every rank's scored rollouts, a row each, for {@link #gather} (several ranks only). */
    private final FloatArray packed;

    /** The prompts as tokens; an empty prompt or none at all is refused. */
    static List<int[]> encode(List<String> prompts, Tokenizer tokenizer) {
        List<int[]> encoded = new ArrayList<>();
        for (String p : prompts) {
            int[] t = tokenizer.encode(p);
            if (t.length == 0) {
                throw new UserError("an empty prompt: every PPO prompt needs at least one token");
            }
            encoded.add(t);
        }
        if (encoded.isEmpty()) {
            throw new UserError("PPO needs at least one prompt");
        }
        return encoded;
    }

    /** T of every PPO batch: the longest prompt and a whole response, which must fit the model's context. */
    static int length(List<int[]> prompts, int maxResponse, int context) {
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (longest + maxResponse > context) {
            throw new UserError("the longest prompt (" + longest + " tokens) and " + maxResponse + " response tokens exceed the context of " + context);
        }
        return longest + maxResponse;
    }

    /**
     * @param policyModel the SFT model, trained in place
     * @param referenceModel a frozen copy of it
     * @param rewardModel the reward model's backbone; its head {@code rewardHead}
     * @param valueModel a copy of the reward model's backbone, trained as the value function
     * @param pretrain pretraining tokens for PPO-ptx and the pretraining loss (null: neither)
     */
    public Ppo(Gpt policyModel, Gpt referenceModel, Gpt rewardModel, RewardHead rewardHead, Gpt valueModel, Tokenizer tokenizer,
            List<String> prompts, int[] pretrain, int[] pretrainVal, Backend backend, Settings s) {
        this.s = s;
        this.tokenizer = tokenizer;
        this.policyModel = policyModel;
        int eos = Sequences.eos(tokenizer);
        this.prompts = encode(prompts, tokenizer);
        T = length(this.prompts, s.maxResponse(), policyModel.config.context());
        Collections.shuffle(this.prompts, new Random(s.seed()));
        int B = s.batch();
        N = B * T;
        world = s.policy().world();
        all = s.rollouts() * world.size();
        this.pretrain = pretrain == null ? null : new Batches(pretrain, B, T, s.seed()).shard(world.rank(), world.size());
        this.pretrainVal = pretrainVal == null ? null : new Batches(pretrainVal, B, T, s.seed() + 1).shard(world.rank(), world.size());
        this.rewardHead = rewardHead.reshaped(B, 1);
        policyHead = new PolicyHead(B, T, s.clip());
        valueHead = new ValueHead(rewardHead, B, T, s.valueClip());
        rollouts = new Rollouts(policyModel, s.rollouts(), T, eos, world.rank() * s.rollouts());
        packed = world.size() > 1 ? new FloatArray(all * (6 * T + 3)) : null;
        // a frozen model on a trained one's weights (LoRA's adapters off) scores in that trainer's session: one device copy
        boolean sharedReference = referenceModel.params == policyModel.params;
        boolean sharedReward = rewardModel.params == valueModel.params;
        reference = sharedReference ? Scorer.hosted(referenceModel, B, T, null) : new Scorer(referenceModel, backend, B, T, null);
        reward = sharedReward ? Scorer.hosted(rewardModel, B, T, this.rewardHead) : new Scorer(rewardModel, backend, B, T, this.rewardHead);
        policy = new Trainer(policyModel, backend, s.policy().batch(B).context(T), policyHead,
                sharedReference ? new Program[] { rollouts.start, rollouts.step, reference.program() } : new Program[] { rollouts.start, rollouts.step });
        value = sharedReward ? new Trainer(valueModel, backend, s.value().batch(B).context(T), valueHead, reward.program())
                : new Trainer(valueModel, backend, s.value().batch(B).context(T), valueHead);
        if (sharedReference) {
            reference.runIn(policy);
        }
        if (sharedReward) {
            reward.runIn(value);
        }
    }

    /** One iteration's rollouts as the host sees them: [R·T] arrays over positions, position t predicting token t + 1. */
    private final class Batch {
        final List<Sequences> seqs;
        final float[] mask;
        final float[] logp;
        final float[] refLogp;
        final float[] values;
        final float[] entropy;
        final float[] scores;
        float[] advantages;
        float[] returns;

        Batch(List<Sequences> seqs) {
            this.seqs = seqs;
            int n = seqs.size() * T;
            mask = new float[n];
            logp = new float[n];
            refLogp = new float[n];
            values = new float[n];
            entropy = new float[n];
            scores = new float[seqs.size()];
        }

        /** Writes minibatch sequences {@code order[from..from+B)} into a batch's rows. */
        void fill(int[] order, int from, IntArray inputs, IntArray targets) {
            for (int b = 0; b < s.batch(); b++) {
                seqs.get(order[from + b]).fill(b, T, inputs, targets);
            }
        }
    }

    public Result run(Judge judge, TrainingRun.Listener listener) {
        Double[] pretrainLoss = { pretrainVal == null ? null : pretrainLoss() };
        Double startLoss = pretrainLoss[0];
        double[] last = { Double.NaN, Double.NaN };
        Collective world = policy.world();
        if (startLoss != null) {
            TrainingLoop.listener(listener, world).message(String.format("PPO%s: pretraining loss at the start %.4f", s.ptx() > 0 ? "-ptx" : "",
                    startLoss));
        }
        Path ckpt = TrainingRun.checkpointDir(s.out());
        TrainingLoop.Job job = new TrainingLoop.Job() {
            @Override
            public void step(int it, Map<String, Object> record) {
                Batch batch = iterate(it, record, new long[3]);
                if (judge != null) {
                    List<String> texts = new ArrayList<>();
                    List<Boolean> ended = new ArrayList<>();
                    for (Sequences q : batch.seqs) {
                        texts.add(tokenizer.decode(Rollouts.responseTokens(q)));
                        ended.add(rollouts.ended(q));
                    }
                    record.put("labeler", judge.score(texts, ended));
                }
                last[0] = (double) record.get("reward");
                last[1] = (double) record.get("kl");
                s.kl().update(last[1], all);
            }

            @Override
            public Float evaluate(int it, boolean end, Map<String, Object> record) {
                if (pretrainVal != null) {
                    pretrainLoss[0] = pretrainLoss();
                    record.put("pretrain_loss", pretrainLoss[0]);
                }
                return null;
            }

            @Override
            public void checkpoint(int it, boolean writer) {
                policy.save(ckpt, tokenizer, writer);
            }
        };
        TrainingLoop.of("PPO", s.iterations()).ranksOf(policy).unit("iteration").watch("reward", "kl").evalEvery(s.evalEvery()).run(job, 0, world, s.out(),
                listener);
        return new Result(s.iterations(), last[0], last[1], startLoss, pretrainLoss[0], ckpt);
    }

    /**
     * One iteration without judging or logging, as ./tgpt bench times it: returns the nanoseconds spent generating the
     * rollouts, scoring them (with the advantages), and in the PPO epochs.
     */
    public long[] iteration(int it) {
        long[] nanos = new long[3];
        iterate(it, new LinkedHashMap<>(), nanos);
        return nanos;
    }

    /** Rollouts, scores, advantages and the updates of iteration {@code it}: its figures into record, each phase's time into nanos. */
    private Batch iterate(int it, Map<String, Object> record, long[] nanos) {
        long t0 = System.nanoTime();
        Batch mine = rollout(it);
        long t1 = System.nanoTime();
        score(mine);
        // every rank gets every rank's scored rollouts: advantages, their whitening and the KL use the whole batch
        Batch batch = gather(mine);
        record.put("iteration", it);
        float beta = s.kl().beta();
        float[] rewards = Advantages.rewards(batch.logp, batch.refLogp, batch.mask, batch.scores, all, T, beta);
        batch.advantages = new float[rewards.length];
        batch.returns = new float[rewards.length];
        Advantages.gae(rewards, batch.values, batch.mask, all, T, s.gamma(), s.lambda(), batch.advantages, batch.returns);
        double explained = Advantages.explainedVariance(batch.values, batch.returns, batch.mask);
        Advantages.whiten(batch.advantages, batch.mask);
        record.put("reward", mean(batch.scores));
        record.put("kl", sequenceKl(batch));
        record.put("entropy", Advantages.maskedMean(batch.entropy, batch.mask));
        long t2 = System.nanoTime();
        update(batch, record);
        nanos[0] = t1 - t0;
        nanos[1] = t2 - t1;
        nanos[2] = System.nanoTime() - t2;
        record.put("explained_var", explained);
        record.put("resp_len", responseLength(batch));
        record.put("beta", beta);
        return batch;
    }

    private Batch rollout(int iteration) {
        List<int[]> chosen = new ArrayList<>();
        for (int b = 0; b < s.rollouts(); b++) {
            chosen.add(prompts.get((int) (((long) (iteration - 1) * all + world.rank() * s.rollouts() + b) % prompts.size())));
        }
        return new Batch(rollouts.generate(policy, chosen, (int) (s.seed() * 31 + iteration)));
    }

    /** The policy's and the reference's log-probabilities, the values, the entropies and the rewards of every rollout. */
    private void score(Batch batch) {
        int B = s.batch();
        int[] order = identity(s.rollouts());
        policyHead.weights.clear();
        valueHead.weights.clear();
        for (int from = 0; from < s.rollouts(); from += B) {
            int f = from;
            Trainer.BatchSource rows = (inputs, targets) -> {
                batch.fill(order, f, inputs, targets);
                for (int b = 0; b < B; b++) {
                    Sequences q = batch.seqs.get(f + b);
                    rewardHead.rows.set(b, b * T + q.last());
                }
            };
            policy.evaluate(rows, 1);
            reference.score(rows);
            value.evaluate(rows, 1);
            reward.score(rows);
            IntArray targets = reference.activations().targets;
            for (int n = 0; n < N; n++) {
                int i = f * T + n;
                boolean response = targets.get(n) >= 0;
                batch.mask[i] = response ? 1f : 0f;
                batch.logp[i] = response ? -policy.activations().losses.get(n) : 0f;
                batch.refLogp[i] = response ? -reference.activations().losses.get(n) : 0f;
                batch.values[i] = response ? valueHead.values.get(n) : 0f;
                batch.entropy[i] = policyHead.entropy.get(n);
            }
            for (int b = 0; b < B; b++) {
                batch.scores[f + b] = rewardHead.rewards.get(b);
            }
        }
    }

    /** {@code epochs} passes over the rollouts in shuffled minibatches: one policy step (PPO, plus γ·pretraining) and one value step each. */
    private void update(Batch batch, Map<String, Object> record) {
        int B = s.batch();
        double clipped = 0;
        double approxKl = 0;
        double valueLoss = 0;
        double ptxLoss = 0;
        int updates = 0;
        Random random = new Random(s.seed() + policy.step());
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            // one shuffle of the whole batch, the same on every rank; each minibatch of ranks·B rows is split by rank
            int[] order = identity(all);
            shuffle(order, random);
            for (int from = 0; from < all; from += B * world.size()) {
                int whole = from;
                int f = from + world.rank() * B;
                double[] stats = new double[5];
                List<Trainer.MicroBatch> micro = new ArrayList<>();
                micro.add(new Trainer.MicroBatch() {
                    @Override
                    public float fill(IntArray inputs, IntArray targets) {
                        batch.fill(order, f, inputs, targets);
                        copyRows(batch, order, f, batch.logp, policyHead.oldLogp);
                        copyRows(batch, order, f, batch.advantages, policyHead.advantages);
                        tokenWeights(batch, order, whole, f, policyHead.weights);
                        return 0f;
                    }

                    @Override
                    public void ran() {
                        ratioStats(policy.activations().losses, stats);
                    }
                });
                if (pretrain != null && s.ptx() > 0) {
                    micro.add(new Trainer.MicroBatch() {
                        @Override
                        public float fill(IntArray inputs, IntArray targets) {
                            pretrain.next(inputs, targets);
                            policyHead.weights.clear();
                            return s.ptx();
                        }

                        @Override
                        public void ran() {
                            stats[3] = meanLoss(policy.activations().losses) / world.size();
                        }
                    });
                }
                policy.trainStep(micro);
                value.trainStep(List.of((inputs, targets) -> {
                    batch.fill(order, f, inputs, targets);
                    copyRows(batch, order, f, batch.values, valueHead.oldValues);
                    copyRows(batch, order, f, batch.returns, valueHead.returns);
                    tokenWeights(batch, order, whole, f, valueHead.weights);
                    return 0f;
                }));
                stats[4] = valueHead.loss();
                world.allReduceSum(stats);
                clipped += stats[2] == 0 ? 0 : stats[0] / stats[2];
                approxKl += stats[2] == 0 ? 0 : stats[1] / stats[2];
                ptxLoss += stats[3];
                valueLoss += stats[4];
                updates++;
            }
        }
        record.put("clipfrac", clipped / updates);
        record.put("approx_kl", approxKl / updates);
        record.put("value_loss", valueLoss / updates);
        if (pretrain != null && s.ptx() > 0) {
            record.put("ptx_loss", ptxLoss / updates);
        }
    }

    /**
     * Every rank's scored rollouts, in rank order (what one process sampling them all would hold): each row packed as
     * its mask, log-probabilities, reference log-probabilities, values and entropies (T each), its score, length,
     * prompt length and tokens (exact in a float: ids are below 2^24), then one all-gather.
     */
    private Batch gather(Batch mine) {
        if (world.size() == 1) {
            return mine;
        }
        int R = s.rollouts();
        int W = 6 * T + 3;
        for (int b = 0; b < R; b++) {
            int at = (world.rank() * R + b) * W;
            int k = 0;
            for (float[] a : List.of(mine.mask, mine.logp, mine.refLogp, mine.values, mine.entropy)) {
                for (int t = 0; t < T; t++) {
                    packed.set(at + k++, a[b * T + t]);
                }
            }
            Sequences q = mine.seqs.get(b);
            packed.set(at + k++, mine.scores[b]);
            packed.set(at + k++, q.tokens().length);
            packed.set(at + k++, q.promptLength());
            for (int t = 0; t < q.tokens().length; t++) {
                packed.set(at + k + t, q.tokens()[t]);
            }
        }
        long[] starts = new long[world.size() + 1];
        for (int r = 0; r <= world.size(); r++) {
            starts[r] = (long) r * R * W;
        }
        world.allGather(packed, starts);
        List<Sequences> seqs = new ArrayList<>();
        for (int b = 0; b < all; b++) {
            int at = b * W + 5 * T;
            int[] tokens = new int[(int) packed.get(at + 1)];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = (int) packed.get(at + 3 + t);
            }
            seqs.add(new Sequences(tokens, (int) packed.get(at + 2)));
        }
        Batch whole = new Batch(seqs);
        for (int b = 0; b < all; b++) {
            int at = b * W;
            int k = 0;
            for (float[] a : List.of(whole.mask, whole.logp, whole.refLogp, whole.values, whole.entropy)) {
                for (int t = 0; t < T; t++) {
                    a[b * T + t] = packed.get(at + k++);
                }
            }
            whole.scores[b] = packed.get(at + k);
        }
        return whole;
    }

    /** The policy's mean language-modelling loss on held-out pretraining text (PPO-ptx's reason to exist). */
    private double pretrainLoss() {
        policyHead.weights.clear();
        return policy.evaluate(pretrainVal::next, s.evalBatches());
    }

    /**
     * For clipfrac (tokens with |ρ − 1| > ε) and approx_kl (½·mean (log π − log π_old)², as TRL logs it) of one
     * minibatch: this rank's clipped tokens, ½·Σ (log π − log π_old)² and tokens, into stats[0..2] (summed over ranks later).
     */
    private void ratioStats(FloatArray losses, double[] stats) {
        double clipped = 0;
        double kl = 0;
        double count = 0;
        for (int n = 0; n < N; n++) {
            if (policyHead.weights.get(n) > 0) {
                double diff = -losses.get(n) - policyHead.oldLogp.get(n);
                clipped += Math.abs(Math.exp(diff) - 1) > s.clip() ? 1 : 0;
                kl += 0.5 * diff * diff;
                count++;
            }
        }
        stats[0] = clipped;
        stats[1] = kl;
        stats[2] = count;
    }

    /** The mean loss over the positions with a target (a pretraining batch has one everywhere). */
    private double meanLoss(FloatArray losses) {
        double sum = 0;
        for (int n = 0; n < N; n++) {
            sum += losses.get(n);
        }
        return sum / N;
    }

    /** Copies a rollout array's rows of minibatch order[from..from+B) into a head's input. */
    private void copyRows(Batch batch, int[] order, int from, float[] src, FloatArray dst) {
        for (int b = 0; b < s.batch(); b++) {
            for (int t = 0; t < T; t++) {
                dst.set(b * T + t, src[order[from + b] * T + t]);
            }
        }
    }

    /**
     * Each response token's weight in the minibatch's mean: mask / (response tokens in the whole minibatch, rows
     * order[whole..whole + ranks·B)), for this rank's rows order[from..from+B).
     */
    private void tokenWeights(Batch batch, int[] order, int whole, int from, FloatArray dst) {
        copyRows(batch, order, from, batch.mask, dst);
        double count = 0;
        for (int i = whole; i < whole + s.batch() * world.size(); i++) {
            for (int t = 0; t < T; t++) {
                count += batch.mask[order[i] * T + t];
            }
        }
        for (int n = 0; n < N; n++) {
            dst.set(n, count == 0 ? 0f : (float) (dst.get(n) / count));
        }
    }

    /** KL(π ‖ π_SFT) per response: the mean over rollouts of Σ_t (log π − log π_SFT) on its tokens. */
    private double sequenceKl(Batch batch) {
        double sum = 0;
        for (int i = 0; i < batch.mask.length; i++) {
            sum += batch.mask[i] * (batch.logp[i] - batch.refLogp[i]);
        }
        return sum / all;
    }

    private double responseLength(Batch batch) {
        double sum = 0;
        for (float m : batch.mask) {
            sum += m;
        }
        return sum / all;
    }

    private static double mean(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        return sum / x.length;
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    @Override
    public void close() {
        policy.close();
        value.close();
        reference.close();
        reward.close();
    }
}
