package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.engine.ops.AdamWOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.GradNormOps;
import dev.tgpt.gpt.io.TrainingState;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Trains a GPT on one backend. Three programs share the device state (parameters, gradients, AdamW's moments and the
 * activations): a micro-step (forward and backward of one batch, adding into the gradients), an update (global
 * gradient-norm clipping, AdamW, zeroed gradients) and an evaluation (forward only). Per step only the batch's tokens,
 * the dropout seed and the step's hyperparameters go in, and the per-position losses and the gradient norm come out.
 */
public final class Trainer implements AutoCloseable {

    /**
     * How to train: {@link #defaults()} and named withers ({@code Options.defaults().batch(8).lr(3e-4f)}), read by the
     * accessors of the same names. Immutable: a wither returns a changed copy.
     */
    public static final class Options implements Cloneable {
        private int batch = 4;
        private int context = 64;
        private int steps = 1;
        private int accumulation = 1;
        private float lr = 1e-3f;
        private float minLr = 1e-4f;
        private int warmup;
        private float weightDecay = 0.1f;
        private float beta1 = 0.9f;
        private float beta2 = 0.95f;
        private float eps = 1e-8f;
        private float gradClip = 1f;
        private long seed = 1337;
        private Collective world = Collective.single();
        private int zero;
        private int checksumEvery = 100;

        private Options() {
        }

        public static Options defaults() {
            return new Options();
        }

        private Options with(java.util.function.Consumer<Options> change) {
            try {
                Options o = (Options) clone();
                change.accept(o);
                return o;
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }

        /** Sequences per micro-step on each rank (B). */
        public int batch() {
            return batch;
        }

        public Options batch(int v) {
            return with(o -> o.batch = v);
        }

        /** Tokens per sequence (T). */
        public int context() {
            return context;
        }

        public Options context(int v) {
            return with(o -> o.context = v);
        }

        /** Optimizer steps of the run (the cosine reaches minLr there). */
        public int steps() {
            return steps;
        }

        public Options steps(int v) {
            return with(o -> o.steps = v);
        }

        /** Micro-steps per optimizer step. */
        public int accumulation() {
            return accumulation;
        }

        public Options accumulation(int v) {
            return with(o -> o.accumulation = v);
        }

        /** Peak learning rate: warmup rises linearly to it, then a cosine decays it to minLr at {@link #steps}. */
        public float lr() {
            return lr;
        }

        public Options lr(float v) {
            return with(o -> o.lr = v);
        }

        public float minLr() {
            return minLr;
        }

        public Options minLr(float v) {
            return with(o -> o.minLr = v);
        }

        public int warmup() {
            return warmup;
        }

        public Options warmup(int v) {
            return with(o -> o.warmup = v);
        }

        public float weightDecay() {
            return weightDecay;
        }

        public Options weightDecay(float v) {
            return with(o -> o.weightDecay = v);
        }

        public float beta1() {
            return beta1;
        }

        public Options beta1(float v) {
            return with(o -> o.beta1 = v);
        }

        public float beta2() {
            return beta2;
        }

        public Options beta2(float v) {
            return with(o -> o.beta2 = v);
        }

        public float eps() {
            return eps;
        }

        public Options eps(float v) {
            return with(o -> o.eps = v);
        }

        /** Global gradient-norm limit; 0 or less: no clipping. */
        public float gradClip() {
            return gradClip;
        }

        public Options gradClip(float v) {
            return with(o -> o.gradClip = v);
        }

        public long seed() {
            return seed;
        }

        public Options seed(long v) {
            return with(o -> o.seed = v);
        }

        /** The ranks training together (data parallel); {@link Collective#single()}: this process alone. */
        public Collective world() {
            return world;
        }

        public Options world(Collective v) {
            return with(o -> o.world = v);
        }

        /** ZeRO stage: 0 (every rank keeps all of AdamW's moments) or 1 (each rank keeps its shard's). */
        public int zero() {
            return zero;
        }

        public Options zero(int v) {
            if (v != 0 && v != 1) {
                throw new UserError("--zero takes 0 or 1, not " + v);
            }
            return with(o -> o.zero = v);
        }

        /** Optimizer steps between checks that every rank holds the same weights. */
        public int checksumEvery() {
            return checksumEvery;
        }

        public Options checksumEvery(int v) {
            return with(o -> o.checksumEvery = v);
        }

        /** The learning rate of optimizer step {@code step} (0-based): nanoGPT's warmup and cosine schedule. */
        public float learningRate(int step) {
            if (step < warmup) {
                return lr * (step + 1) / (warmup + 1);
            }
            if (step >= steps) {
                return minLr;
            }
            double progress = (double) (step - warmup) / Math.max(1, steps - warmup);
            return (float) (minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr));
        }
    }

    /** Fills a batch's inputs and next-token targets (B·T each). */
    @FunctionalInterface
    public interface BatchSource {
        void next(IntArray inputs, IntArray targets);
    }

    /**
     * One micro-batch of an optimizer step whose micro-batches differ (PPO's rollouts, then pretraining text): fills
     * the inputs, targets and a head's inputs, and returns the weight of its mean language-modelling loss in the
     * step's objective (0: the head's loss alone).
     */
    @FunctionalInterface
    public interface MicroBatch {
        float fill(IntArray inputs, IntArray targets);

        /** Called after the micro-batch ran, while its outputs (the losses, a head's outputs) are on the host. */
        default void ran() {
        }
    }

    private final Gpt model;
    private final Options options;
    private final Parameters grads;
    private final Parameters m;
    private final Parameters v;
    private final Gpt.Activations act;
    private final FloatArray hyperDecay = new FloatArray(dev.tgpt.kernels.AdamW.HYPER_SIZE);
    private final FloatArray hyperNoDecay = new FloatArray(dev.tgpt.kernels.AdamW.HYPER_SIZE);
    private final FloatArray gradNorm = new FloatArray(1);
    private final FloatArray clipScale = new FloatArray(1);
    private final Program microStep;
    private final Program update;
    private final Program evaluation;
    private final Session session;
    private int step;
    private long dropoutCounter;
    private long compileNanos;
    private long kernelNanos;

    public Trainer(Gpt model, Backend backend, Options options) {
        this(model, backend, options, null);
    }

    /**
     * With a head trained on top of the model (its loss joins the model's; null: language modelling only), and extra
     * programs opened in the same session, sharing the model's parameters on the device (PPO's rollouts).
     */
    public Trainer(Gpt model, Backend backend, Options options, Head head, Program... extra) {
        this.model = model;
        this.options = options;
        this.grads = new Parameters(model.config);
        this.m = new Parameters(model.config);
        this.v = new Parameters(model.config);
        this.act = model.activations(options.batch(), options.context());
        List<Object> state = new ArrayList<>();
        for (Parameters p : List.of(model.params, grads, m, v)) {
            state.add(p.all());
        }
        state.addAll(act.buffers());
        List<Object> inputs = new ArrayList<>(List.of(act.tokens, act.targets, act.dlosses, act.seed));
        List<Object> outputs = new ArrayList<>(List.of(act.losses));
        // the model's tensors go to AdamW as two regions of their slabs (with and without weight decay); a head's one by one
        List<FloatArray> gradients = new ArrayList<>(List.of(grads.all()));
        List<Parameters.Tensor> headTensors = new ArrayList<>();
        List<FloatArray> headMoments1 = new ArrayList<>();
        List<FloatArray> headMoments2 = new ArrayList<>();
        if (head != null) {
            state.addAll(head.state());
            headTensors.addAll(head.tensors());
            gradients.addAll(head.gradients());
            for (Parameters.Tensor t : head.tensors()) {
                headMoments1.add(new FloatArray(t.size()));
                headMoments2.add(new FloatArray(t.size()));
            }
            state.addAll(headMoments1);
            state.addAll(headMoments2);
            inputs.addAll(head.inputs());
            outputs.addAll(head.outputs());
        }
        Object[] shared = state.toArray();

        microStep = new Program("microStep").state(shared).inputs(inputs.toArray()).outputs(outputs.toArray());
        model.forward(act, true).forEach(microStep::add);
        if (head != null) {
            head.forward(act).forEach(microStep::add);
        }
        model.backward(act, grads, head == null ? List.of() : head.backward(act)).forEach(microStep::add);

        FloatArray[] allGrads = gradients.toArray(FloatArray[]::new);
        FloatArray partials = new FloatArray(GradNormOps.partials(allGrads));
        float maxNorm = options.gradClip() > 0 ? options.gradClip() : Float.POSITIVE_INFINITY;
        update = new Program("update").state(shared).state(partials, clipScale).inputs(hyperDecay, hyperNoDecay).outputs(gradNorm);
        GradNormOps.norm(gradNorm, clipScale, partials, maxNorm, allGrads).forEach(update::add);
        Parameters p = model.params;
        update.add(AdamWOps.update(p.decayed(), grads.decayed(), m.decayed(), v.decayed(), hyperDecay, clipScale, p.decayed().getSize()));
        update.add(AdamWOps.update(p.undecayed(), grads.undecayed(), m.undecayed(), v.undecayed(), hyperNoDecay, clipScale,
                p.undecayed().getSize()));
        for (int i = 0; i < headTensors.size(); i++) {
            Parameters.Tensor t = headTensors.get(i);
            update.add(AdamWOps.update(t.data(), head.gradients().get(i), headMoments1.get(i), headMoments2.get(i),
                    t.decay() ? hyperDecay : hyperNoDecay, clipScale, t.size()));
        }
        for (FloatArray g : allGrads) {
            update.add(FillOps.fill(g, 0f));
        }

        evaluation = new Program("evaluation").state(shared).inputs(inputs.toArray()).outputs(outputs.toArray());
        model.forward(act, false).forEach(evaluation::add);
        if (head != null) {
            head.forward(act).forEach(evaluation::add);
        }
        List<Program> programs = new ArrayList<>(List.of(microStep, update, evaluation));
        programs.addAll(List.of(extra));
        session = backend.open(programs.toArray(Program[]::new));
    }

    /** Optimizer steps done so far. */
    public int step() {
        return step;
    }

    /** The gradient norm of the last step, before clipping. */
    public float lastGradNorm() {
        return gradNorm.get(0);
    }

    /** One optimizer step over {@code accumulation} micro-batches; returns their mean language-modelling loss. */
    public float trainStep(BatchSource data) {
        return trainStep(data, 1f);
    }

    /**
     * As {@link #trainStep(BatchSource)}, with the language-modelling loss weighted by {@code lmWeight} (GPT-1's λ when
     * a head adds its own loss); the mean is over the targets that are not ignored.
     */
    public float trainStep(BatchSource data, float lmWeight) {
        MicroBatch micro = (inputs, targets) -> {
            data.next(inputs, targets);
            return lmWeight / options.accumulation();
        };
        return trainStep(java.util.Collections.nCopies(options.accumulation(), micro));
    }

    /** One optimizer step over these micro-batches; returns their mean language-modelling loss (unweighted). */
    public float trainStep(List<? extends MicroBatch> micro) {
        double loss = 0;
        for (MicroBatch batch : micro) {
            float weight = batch.fill(act.tokens, act.targets);
            int counted = 0;
            for (int i = 0; i < act.N; i++) {
                counted += act.targets.get(i) >= 0 ? 1 : 0;
            }
            act.dlosses.init(counted == 0 ? 0f : weight / counted);
            act.seed.set(0, seed(options.seed(), dropoutCounter++));
            run(microStep);
            batch.ran();
            loss += meanLoss();
        }
        float lr = options.learningRate(step);
        step++;
        AdamWOps.hyperparameters(hyperDecay, lr, options.beta1(), options.beta2(), options.eps(), options.weightDecay(), step);
        AdamWOps.hyperparameters(hyperNoDecay, lr, options.beta1(), options.beta2(), options.eps(), 0f, step);
        run(update);
        return (float) (loss / micro.size());
    }

    /** The mean loss over {@code batches} batches, without dropout and without touching the gradients. */
    public float evaluate(BatchSource data, int batches) {
        double loss = 0;
        for (int i = 0; i < batches; i++) {
            data.next(act.tokens, act.targets);
            run(evaluation);
            loss += meanLoss();
        }
        return (float) (loss / batches);
    }

    /** Runs one of the programs (the trainer's own, or one of the extra ones) in the trainer's session. */
    public void run(Program p) {
        session.run(p);
        compileNanos += Math.max(0, session.profile().compileNanos());
        kernelNanos += Math.max(0, session.profile().kernelNanos());
    }

    /** Seconds TornadoVM has spent compiling this trainer's kernels (0 on the JVM backend), apart from step times. */
    public double compileSeconds() {
        return compileNanos / 1e9;
    }

    /**
     * Seconds this trainer's kernels have run on a TornadoVM device, by its profiler (0 on the JVM backend): the rest
     * of a step's time is the host's (launches, copies, the engine), which a GPU pays as well.
     */
    public double kernelSeconds() {
        return kernelNanos / 1e9;
    }

    private double meanLoss() {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < act.N; i++) {
            if (act.targets.get(i) >= 0) {
                sum += act.losses.get(i);
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /** Copies state arrays of the session (an extra program's results, say) to the host. */
    public void read(Object... arrays) {
        session.read(arrays);
    }

    /** Brings parameters and AdamW's moments to the host, e.g. before a checkpoint. */
    public void sync() {
        session.read(model.params.all(), m.all(), v.all());
    }

    /** The activations the programs run on (a head reads its inputs' sizes from them). */
    public Gpt.Activations activations() {
        return act;
    }

    /** Continues a run: AdamW's moments, the step count and the dropout counter, before the first step. */
    public void restore(TrainingState state) {
        if (step != 0 || dropoutCounter != 0) {
            throw new IllegalStateException("restore before the first step");
        }
        copy(state.m(), m);
        copy(state.v(), v);
        step = Math.toIntExact(state.step());
        dropoutCounter = state.dropoutSeed();
    }

    /** What a checkpoint needs to resume this run exactly (brings the device state to the host first). */
    public TrainingState state(long dataRng) {
        sync();
        return new TrainingState(step, m, v, dataRng, dropoutCounter);
    }

    private static void copy(Parameters from, Parameters to) {
        for (int i = 0; i < from.tensors().size(); i++) {
            FloatArray a = from.tensors().get(i).data();
            java.lang.foreign.MemorySegment.copy(a.getSegment(), 0, to.tensors().get(i).data().getSegment(), 0, a.getNumBytesOfSegment());
        }
    }

    /** The dropout seed of a micro-step: a splitmix64 mix of the run's seed and the micro-step's index. */
    static int seed(long runSeed, long counter) {
        long z = runSeed + (counter + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    @Override
    public void close() {
        session.close();
    }
}
