package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.Withers;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.engine.dist.NcclCollective;
import dev.tgpt.engine.ops.AdamWOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.GradNormOps;
import dev.tgpt.gpt.io.TrainingState;
import dev.tgpt.kernels.GradNormVector;
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
    public static final class Options extends Withers<Options> {
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
        private boolean overlap;
        private NcclCollective.Mode collective = NcclCollective.Mode.auto;
        private int checksumEvery = 100;
        private boolean recompute;
        private Lora.Settings lora;

        private Options() {
        }

        public static Options defaults() {
            return new Options();
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

        /**
         * Exchange each layer's gradients with the other ranks while the backward pass computes the layers below it
         * (on a TornadoVM device a task graph ends after each layer, whose gradients are copied out there; with NCCL a
         * library task hands them to NCCL's stream instead, and nothing ends). It pays
         * where a network, not the CPU, bounds the exchange: over shared memory on one machine the exchange's copies
         * take the cores the backward needs (bench/README.md, data parallelism).
         */
        public boolean overlap() {
            return overlap;
        }

        public Options overlap(boolean v) {
            return with(o -> o.overlap = v);
        }

        /**
         * How the ranks sum gradients: on the device with NCCL (TornadoVM's CUDA backend: no copies to the host; under
         * ZeRO-1 a reduce-scatter of the gradients and an all-gather of the weights), on the host through MPI (any
         * device), or auto: NCCL where every rank can use it. With {@link #overlap} NCCL sums each layer's gradients on a
         * stream of its own while the device computes the layers below.
         */
        public NcclCollective.Mode collective() {
            return collective;
        }

        public Options collective(NcclCollective.Mode v) {
            return with(o -> o.collective = v);
        }

        /** Optimizer steps between checks that every rank holds the same weights. */
        public int checksumEvery() {
            return checksumEvery;
        }

        public Options checksumEvery(int v) {
            return with(o -> o.checksumEvery = v);
        }

        /** Keep fewer activations and recompute the rest in backward (--recompute): less memory, the same results. */
        public boolean recompute() {
            return recompute;
        }

        public Options recompute(boolean v) {
            return with(o -> o.recompute = v);
        }

        /** LoRA: the model trains adapters of these settings, its weights frozen (null: every weight trains). */
        public Lora.Settings lora() {
            return lora;
        }

        public Options lora(Lora.Settings v) {
            return with(o -> o.lora = v);
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

        /**
         * Called after the micro-batch ran, while its outputs (the losses, a head's outputs) are on the host. No
         * collective calls here: the gradient exchange's thread may be calling MPI.
         */
        default void ran() {
        }
    }

    private final Gpt model;
    private final Options options;
    private final Collective world;
    /** The weights' gradients; null with adapters, whose own are {@link #adapterGrads}. */
    private final Parameters grads;
    /** LoRA: the model's adapters (what trains), their gradients and AdamW's moments; all null without. */
    private final Lora adapters;
    private final Lora adapterGrads;
    private final Lora adapterM;
    private final Lora adapterV;
    /** What AdamW updates, and its gradients: the parameter slab, or the adapters' slab. */
    private final FloatArray trained;
    private final FloatArray trainedGrads;
    /** NCCL's sums on the device, where the ranks use them ({@link Options#collective}); null: the host path. */
    private final NcclCollective deviceSums;
    /** With NCCL and {@link Options#overlap}: each layer's ranges of the gradient slab, summed during the backward. */
    private final long[][] deviceLayers;
    /** AdamW's moments of every parameter; null under ZeRO-1, where {@link #shard} holds this rank's. */
    private final Parameters m;
    private final Parameters v;
    private final Shard shard;
    /** Sums the step's gradients over the ranks (beside the backward pass on the JVM backend). */
    private final GradientExchange exchange;
    private final Gpt.Activations act;
    private final FloatArray hyperDecay = new FloatArray(dev.tgpt.kernels.AdamW.HYPER_SIZE);
    private final FloatArray hyperNoDecay = new FloatArray(dev.tgpt.kernels.AdamW.HYPER_SIZE);
    private final FloatArray gradNorm = new FloatArray(1);
    private final FloatArray clipScale = new FloatArray(1);
    private final List<FloatArray> headGrads = new ArrayList<>();
    private final Program microStep;
    private final Program update;
    private final Program evaluation;
    /** ZeRO-1: puts the gathered parameters back on the device (a program of inputs alone). */
    private final Program gather;
    private final Session session;
    private final long optimizerBytes;
    private int step;
    private long dropoutCounter;
    private long compileNanos;
    private long kernelNanos;
    private long commNanos;

    /**
     * ZeRO-1's part of this rank: elements [lo, hi) of the parameter slab, and AdamW's moments for them (from element
     * {@link Slab#ALIGN} of m and v, so that views of them can be made).
     */
    private record Shard(long[] starts, int lo, int hi, FloatArray m, FloatArray v) {
    }

    public Trainer(Gpt model, Backend backend, Options options) {
        this(model, backend, options, null);
    }

    /**
     * With a head trained on top of the model (its loss joins the model's; null: language modelling only), and extra
     * programs opened in the same session, sharing the model's parameters on the device (PPO's rollouts).
     *
     * <p>With several ranks ({@link Options#world}) every rank starts from rank 0's weights; each micro-batch's loss is
     * a mean over the targets of all ranks, so summing the ranks' gradients gives one process's gradient of the whole
     * batch, and every rank then takes the same step.
     */
    public Trainer(Gpt model, Backend backend, Options options, Head head, Program... extra) {
        this.model = model;
        this.options = options;
        this.world = options.world();
        boolean parallel = world.size() > 1;
        boolean zero = options.zero() == 1;
        this.adapters = model.lora;
        if (!java.util.Objects.equals(options.lora(), adapters == null ? null : adapters.settings)) {
            throw new IllegalArgumentException("the options' LoRA settings (" + options.lora() + ") are not the model's adapters'");
        }
        if (adapters != null && zero) {
            throw new UserError("--zero 1 shards AdamW's moments of every weight; with LoRA the optimizer holds only the adapters': leave --zero at 0");
        }
        MemoryPlan.trainer(model.config, options).checkFree("training", MemoryPlan.advice(options));
        this.deviceSums = NcclCollective.open(world, backend, options.collective());
        this.grads = adapters == null ? new Parameters(model.config) : null;
        this.adapterGrads = adapters == null ? null : new Lora(model.config, adapters.settings);
        this.adapterM = adapters == null ? null : new Lora(model.config, adapters.settings);
        this.adapterV = adapters == null ? null : new Lora(model.config, adapters.settings);
        this.trained = adapters == null ? model.params.all() : adapters.all();
        this.trainedGrads = adapters == null ? grads.all() : adapterGrads.all();
        this.deviceLayers = deviceSums != null && grads != null && parallel && options.overlap() ? GradientExchange.layerRanges(grads) : null;
        this.act = model.activations(options.batch(), options.context(), options.recompute());
        act.seed.set(1, world.rank() * act.N * model.config.channels());
        Parameters p = model.params;
        if (parallel) {
            world.broadcast(p.all(), 0, p.all().getSize(), 0);
            if (adapters != null) {
                world.broadcast(adapters.all(), 0, adapters.all().getSize(), 0);
            }
            if (head != null) {
                head.tensors().forEach(t -> world.broadcast(t.data(), 0, t.size(), 0));
            }
        }
        List<Object> state = new ArrayList<>(List.of(p.all(), trainedGrads));
        if (adapters != null) {
            shard = null;
            m = null;
            v = null;
            state.addAll(List.of(adapters.all(), adapterM.all(), adapterV.all()));
        } else if (zero) {
            long[] starts = world.shards(0, p.all().getSize());
            int lo = Math.toIntExact(starts[world.rank()]);
            int hi = Math.toIntExact(starts[world.rank() + 1]);
            shard = new Shard(starts, lo, hi, new FloatArray(Slab.ALIGN + hi - lo), new FloatArray(Slab.ALIGN + hi - lo));
            shard.m.clear();
            shard.v.clear();
            m = null;
            v = null;
            state.addAll(List.of(shard.m, shard.v));
        } else {
            shard = null;
            m = new Parameters(model.config);
            v = new Parameters(model.config);
            state.addAll(List.of(m.all(), v.all()));
        }
        state.addAll(act.buffers());
        List<Object> inputs = new ArrayList<>(List.of(act.tokens, act.targets, act.dlosses, act.seed));
        List<Object> outputs = new ArrayList<>(List.of(act.losses));
        // the model's tensors go to AdamW as two regions of their slabs (with and without weight decay); a head's one by one
        List<FloatArray> gradients = new ArrayList<>(List.of(trainedGrads));
        List<Parameters.Tensor> headTensors = new ArrayList<>();
        List<FloatArray> headMoments1 = new ArrayList<>();
        List<FloatArray> headMoments2 = new ArrayList<>();
        if (head != null) {
            state.addAll(head.state());
            headTensors.addAll(head.tensors());
            headGrads.addAll(head.gradients());
            gradients.addAll(headGrads);
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
        exchange = adapters != null ? new GradientExchange(world, trainedGrads, null)
                : new GradientExchange(world, grads, zero ? shard.starts : null, options.overlap() && deviceSums == null);

        microStep = new Program("microStep").state(shared).inputs(inputs.toArray()).outputs(outputs.toArray());
        model.forward(act, true).forEach(microStep::add);
        if (head != null) {
            head.forward(act).forEach(microStep::add);
        }
        List<Launch> headBackward = head == null ? List.of() : head.backward(act);
        (adapters != null ? model.backward(act, adapterGrads, headBackward)
                : model.backward(act, grads, headBackward, l -> exchange.overlapped() ? exchange.afterLayer(l)
                        : deviceLayers != null ? deviceSums.sumRanges("layer_" + l + ".sum", trainedGrads, deviceLayers[l], zero, true) : null))
                .forEach(microStep::add);

        FloatArray[] allGrads = gradients.toArray(FloatArray[]::new);
        update = new Program("update").state(shared).inputs(hyperDecay, hyperNoDecay);
        float maxNorm = options.gradClip() > 0 ? options.gradClip() : Float.POSITIVE_INFINITY;
        if (deviceSums != null) {
            // summed where they are, before anything reads them (under ZeRO-1 the slab's shard of this rank only); what
            // the backward handed over is waited for here
            for (FloatArray g : allGrads) {
                boolean slab = g == trainedGrads;
                long[] ranges = slab && deviceLayers != null ? GradientExchange.complement(deviceLayers, g.getSize()) : new long[] { 0, g.getSize() };
                update.add(deviceSums.sumRanges(zero && slab ? "reduceScatter" : "allReduce", g, ranges, zero && slab, false));
            }
        } else if (parallel || zero) {
            // the summed gradients come from the host (device → host → MPI → device)
            update.inputs((Object[]) allGrads);
        }
        if (zero && deviceSums == null) {
            // the norm of gradients spread over the ranks is summed on the host: clipScale comes in
            update.inputs(clipScale);
        } else if (zero) {
            shardedNorm(maxNorm).forEach(update::add);
        }
        if (zero) {
            adamWShard(p.decayed(), hyperDecay);
            adamWShard(p.undecayed(), hyperNoDecay);
        } else {
            FloatArray partials = new FloatArray(GradNormOps.partials(allGrads));
            update.state(partials, clipScale).outputs(gradNorm);
            GradNormOps.norm(gradNorm, clipScale, partials, maxNorm, allGrads).forEach(update::add);
            if (adapters != null) {
                // the adapters' matrices decay as the model's do; the slab's gaps hold zeros and keep them
                update.add(AdamWOps.update(adapters.all(), adapterGrads.all(), adapterM.all(), adapterV.all(), hyperDecay, clipScale,
                        adapters.all().getSize()));
            } else {
                update.add(AdamWOps.update(p.decayed(), grads.decayed(), m.decayed(), v.decayed(), hyperDecay, clipScale, p.decayed().getSize()));
                update.add(AdamWOps.update(p.undecayed(), grads.undecayed(), m.undecayed(), v.undecayed(), hyperNoDecay, clipScale,
                        p.undecayed().getSize()));
            }
        }
        for (int i = 0; i < headTensors.size(); i++) {
            Parameters.Tensor t = headTensors.get(i);
            update.add(AdamWOps.update(t.data(), headGrads.get(i), headMoments1.get(i), headMoments2.get(i), t.decay() ? hyperDecay : hyperNoDecay,
                    clipScale, t.size()));
        }
        if (zero && deviceSums != null) {
            update.add(deviceSums.allGather("allGather", p.all()));
        }
        for (FloatArray g : allGrads) {
            update.add(FillOps.fill(g, 0f));
        }
        long moments = zero ? shard.hi - shard.lo : trained.getSize();
        for (Parameters.Tensor t : headTensors) {
            moments += t.size();
        }
        optimizerBytes = 2 * 4 * moments;

        evaluation = new Program("evaluation").state(shared).inputs(inputs.toArray()).outputs(outputs.toArray());
        model.forward(act, false).forEach(evaluation::add);
        if (head != null) {
            head.forward(act).forEach(evaluation::add);
        }
        List<Program> programs = new ArrayList<>(List.of(microStep, update, evaluation));
        gather = zero && deviceSums == null ? new Program("gatherParameters").state(shared).inputs(p.all()) : null;
        if (gather != null) {
            programs.add(gather);
        }
        programs.addAll(List.of(extra));
        session = backend.open(programs.toArray(Program[]::new));
    }

    /** ZeRO-1: AdamW on this rank's part of one region of the parameter slab (none if they do not meet). */
    private void adamWShard(FloatArray region, FloatArray hyper) {
        int[] part = shardPart(world.rank(), region);
        int n = part[1] - part[0];
        if (n <= 0) {
            return;
        }
        int at = Slab.ALIGN + part[0] - shard.lo;
        update.add(AdamWOps.update(Slab.slice(model.params.all(), part[0], n), Slab.slice(grads.all(), part[0], n), Slab.slice(shard.m, at, n),
                Slab.slice(shard.v, at, n), hyper, clipScale, n));
    }

    /** ZeRO-1: where rank r's shard meets one region of the parameter slab, {from, to} (from ≥ to: nowhere). */
    private int[] shardPart(int r, FloatArray region) {
        int from = (int) Math.max(shard.starts[r], Slab.offsetOf(region));
        int to = (int) Math.min(shard.starts[r + 1], Slab.offsetOf(region) + region.getSize());
        return new int[] { from, to };
    }

    /**
     * ZeRO-1 with the sums on the device: the norm of gradients spread over the ranks. Each rank's squares (its shard's;
     * a head's, summed whole, on rank 0 alone) go into partials as long as the most any rank needs, summed over the
     * ranks, then finished into the norm and clipScale.
     */
    private List<Launch> shardedNorm(float maxNorm) {
        List<FloatArray> regions = List.of(model.params.decayed(), model.params.undecayed());
        FloatArray[] heads = headGrads.toArray(FloatArray[]::new);
        List<FloatArray> mine = new ArrayList<>();
        int most = 0;
        for (int r = 0; r < world.size(); r++) {
            int count = r == 0 ? GradNormOps.partials(heads) : 0;
            for (FloatArray region : regions) {
                int[] part = shardPart(r, region);
                if (part[0] < part[1]) {
                    count += dev.tgpt.kernels.GradNorm.groups(part[1] - part[0]);
                    if (r == world.rank()) {
                        mine.add(Slab.slice(grads.all(), part[0], part[1] - part[0]));
                    }
                }
            }
            most = Math.max(most, count);
        }
        if (world.rank() == 0) {
            mine.addAll(headGrads);
        }
        FloatArray partials = new FloatArray(most);
        update.state(partials, clipScale).outputs(gradNorm);
        // the slots past this rank's own hold the last step's sums of the others': zeros first
        List<Launch> launches = new ArrayList<>(List.of(FillOps.fill(partials, 0f)));
        launches.addAll(GradNormOps.sumsOfSquares(partials, mine.toArray(FloatArray[]::new)));
        launches.add(deviceSums.allReduceSum("allReduce", partials));
        launches.add(GradNormOps.finish(gradNorm, clipScale, partials, most, maxNorm));
        return launches;
    }

    /** Optimizer steps done so far. */
    public int step() {
        return step;
    }

    /** The ranks this trainer trains with. */
    public Collective world() {
        return world;
    }

    /** Whether each layer's gradients go to the other ranks during the backward pass ({@link Options#overlap}). */
    private boolean exchangeOverlapped() {
        return exchange.overlapped() || deviceLayers != null;
    }

    /**
     * How the ranks work together, for a run's header: "; ZeRO-1: AdamW's moments 474 MiB a rank; gradients exchanged
     * during the backward; gradients summed on the device by NCCL ...", each clause where it applies ("" with none).
     */
    public String parallelism() {
        return (options.zero() == 1 ? String.format("; ZeRO-1: AdamW's moments %,d MiB a rank", optimizerBytes >> 20) : "")
                + (exchangeOverlapped() ? "; gradients exchanged during the backward" : "")
                + (deviceSums != null ? "; gradients summed on the device by " + deviceSums.describe() : "");
    }

    /** Bytes of AdamW's moments this rank holds (under ZeRO-1: its shard's, about 1/ranks of them). */
    public long optimizerBytes() {
        return optimizerBytes;
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

    /**
     * One optimizer step over these micro-batches; returns their mean language-modelling loss (unweighted), each a
     * mean over the targets of every rank.
     */
    public float trainStep(List<? extends MicroBatch> micro) {
        double[] sums = new double[micro.size()];
        double[] counts = new double[micro.size()];
        for (int k = 0; k < micro.size(); k++) {
            MicroBatch batch = micro.get(k);
            float weight = batch.fill(act.tokens, act.targets);
            double[] counted = { countTargets() };
            world.allReduceSum(counted);
            counts[k] = counted[0];
            act.dlosses.init(counted[0] == 0 ? 0f : weight / (float) counted[0]);
            act.seed.set(0, seed(options.seed(), dropoutCounter++));
            exchange.arm(k == micro.size() - 1);
            if (deviceSums != null) {
                deviceSums.arm(k == micro.size() - 1);
            }
            run(microStep);
            batch.ran();
            sums[k] = lossSum();
        }
        float lr = options.learningRate(step);
        step++;
        AdamWOps.hyperparameters(hyperDecay, lr, options.beta1(), options.beta2(), options.eps(), options.weightDecay(), step);
        AdamWOps.hyperparameters(hyperNoDecay, lr, options.beta1(), options.beta2(), options.eps(), 0f, step);
        long t0 = System.nanoTime();
        if (shard != null && deviceSums == null) {
            exchangeGradients();
            clipByShards();
            commNanos += System.nanoTime() - t0;
            run(update);
            t0 = System.nanoTime();
            session.read(model.params.all());
            world.allGather(model.params.all(), shard.starts);
            run(gather);
        } else {
            if (world.size() > 1 && deviceSums == null) {
                exchangeGradients();
            }
            commNanos += System.nanoTime() - t0;
            run(update);
            if (deviceSums != null) {
                deviceSums.settled();
            }
            t0 = System.nanoTime();
        }
        commNanos += System.nanoTime() - t0;
        // after the gradients: until they are summed, the exchange's thread may be calling MPI, and the ranks' calls must come in one order
        world.allReduceSum(sums);
        double loss = 0;
        for (int k = 0; k < sums.length; k++) {
            loss += counts[k] == 0 ? 0 : sums[k] / counts[k];
        }
        if (world.size() > 1 && step % options.checksumEvery() == 0) {
            checkSameWeights();
        }
        return (float) (loss / micro.size());
    }

    /**
     * The gradients summed over the ranks (under ZeRO-1, each rank's shard of them); a head's, small, are summed whole.
     * Overlapped, most of them were handed over during the backward; the step waits here for the rest.
     */
    private void exchangeGradients() {
        readGradients();
        exchange.finish();
        headGrads.forEach(g -> world.allReduceSum(g, 0, g.getSize()));
    }

    /** ZeRO-1: the clipping factor from the norm of all the gradients: the shards' squares summed over the ranks. */
    private void clipByShards() {
        double[] squares = { GradNormVector.sumOfSquares(grads.all(), shard.lo, shard.hi) };
        if (world.rank() == 0) {
            for (FloatArray g : headGrads) {
                squares[0] += GradNormVector.sumOfSquares(g, 0, g.getSize());
            }
        }
        world.allReduceSum(squares);
        float norm = (float) Math.sqrt(squares[0]);
        float maxNorm = options.gradClip() > 0 ? options.gradClip() : Float.POSITIVE_INFINITY;
        gradNorm.set(0, norm);
        clipScale.set(0, Math.min(1f, maxNorm / (norm + dev.tgpt.kernels.GradNorm.EPS)));
    }

    /** The gradients to the host: a head's, and what the backward has not handed to the exchange already. */
    private void readGradients() {
        if (!headGrads.isEmpty()) {
            session.read(headGrads.toArray());
        }
        long[] r = exchange.unread();
        for (int k = 0; k < r.length; k += 2) {
            session.read(trainedGrads, r[k], r[k + 1]);
        }
    }

    /** Every rank must hold the same weights after the same steps: a rank that drifted is an error, not a silent fork. */
    private void checkSameWeights() {
        session.read(trained);
        FloatArray w = trained;
        long hash = 1125899906842597L;
        for (int i = 0; i < w.getSize(); i++) {
            hash = 31 * hash + Float.floatToRawIntBits(w.get(i));
        }
        int differ = world.differingFromRankZero(java.nio.ByteBuffer.allocate(8).putLong(hash).array());
        if (differ > 0) {
            throw new UserError(String.format("after step %d the weights of %d of the %d ranks differ from rank 0's (checksums compared every "
                    + "%d steps): the ranks diverged; the last checkpoint holds rank 0's weights", step, differ, world.size(),
                    options.checksumEvery()));
        }
    }

    /** The mean loss over {@code batches} batches (over every rank's targets), without dropout and without touching the gradients. */
    public float evaluate(BatchSource data, int batches) {
        double[] sums = new double[2 * batches];
        for (int i = 0; i < batches; i++) {
            data.next(act.tokens, act.targets);
            run(evaluation);
            sums[2 * i] = lossSum();
            sums[2 * i + 1] = countTargets();
        }
        world.allReduceSum(sums);
        double loss = 0;
        for (int i = 0; i < batches; i++) {
            loss += sums[2 * i + 1] == 0 ? 0 : sums[2 * i] / sums[2 * i + 1];
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

    /**
     * Seconds spent exchanging gradients and parameters with the other ranks (copies between device and host
     * included) in the optimizer steps so far; 0 with one process and no ZeRO.
     */
    public double commSeconds() {
        return commNanos / 1e9;
    }

    private int countTargets() {
        int n = 0;
        for (int i = 0; i < act.N; i++) {
            n += act.targets.get(i) >= 0 ? 1 : 0;
        }
        return n;
    }

    private double lossSum() {
        double sum = 0;
        for (int i = 0; i < act.N; i++) {
            if (act.targets.get(i) >= 0) {
                sum += act.losses.get(i);
            }
        }
        return sum;
    }

    /** Copies state arrays of the session (an extra program's results, say) to the host. */
    public void read(Object... arrays) {
        session.read(arrays);
    }

    /** Brings parameters and AdamW's moments (this rank's) to the host, e.g. before a checkpoint. */
    public void sync() {
        if (adapters != null) {
            session.read(adapters.all(), adapterM.all(), adapterV.all());
        } else if (shard != null) {
            session.read(model.params.all(), shard.m, shard.v);
        } else {
            session.read(model.params.all(), m.all(), v.all());
        }
    }

    /**
     * Saves the trained model as a checkpoint in {@code dir} (every rank calls it; only {@code writer} writes): the
     * weights, or with LoRA the base with the adapters merged in (what the next step and sampling read), and the
     * adapters in PEFT's format beside it, in {@code dir}'s sibling "adapter".
     */
    public void save(java.nio.file.Path dir, dev.tgpt.gpt.data.Tokenizer tokenizer, boolean writer) {
        sync();
        if (!writer) {
            return;
        }
        if (adapters == null) {
            dev.tgpt.gpt.io.Checkpoint.save(dir, model.config, tokenizer, model.params, null);
        } else {
            dev.tgpt.gpt.io.Checkpoint.save(dir, model.config, tokenizer, adapters.mergedInto(model.params), null);
            adapters.save(dir.resolveSibling(ADAPTER_DIR));
        }
    }

    /** Where {@link #save} puts a LoRA run's adapters: beside its checkpoint. */
    public static final String ADAPTER_DIR = "adapter";

    /** The activations the programs run on (a head reads its inputs' sizes from them). */
    public Gpt.Activations activations() {
        return act;
    }

    /** Continues a run: AdamW's moments, the step count and the dropout counter, before the first step. */
    public void restore(TrainingState state) {
        if (adapters != null) {
            throw new IllegalStateException("a LoRA run keeps no resumable training state");
        }
        if (step != 0 || dropoutCounter != 0) {
            throw new IllegalStateException("restore before the first step");
        }
        if (shard != null) {
            int n = shard.hi - shard.lo;
            copy(state.m().all(), shard.lo, shard.m, Slab.ALIGN, n);
            copy(state.v().all(), shard.lo, shard.v, Slab.ALIGN, n);
        } else {
            copy(state.m().all(), 0, m.all(), 0, m.all().getSize());
            copy(state.v().all(), 0, v.all(), 0, v.all().getSize());
        }
        step = Math.toIntExact(state.step());
        dropoutCounter = state.dropoutSeed();
    }

    /**
     * What a checkpoint needs to resume this run exactly (brings the device state to the host first). Under ZeRO-1
     * the moments are gathered from every rank, so every rank must call it.
     */
    public TrainingState state(long dataRng) {
        if (adapters != null) {
            throw new IllegalStateException("a LoRA run keeps no resumable training state");
        }
        sync();
        if (shard == null) {
            return new TrainingState(step, m, v, dataRng, dropoutCounter);
        }
        Parameters fullM = new Parameters(model.config);
        Parameters fullV = new Parameters(model.config);
        int n = shard.hi - shard.lo;
        copy(shard.m, Slab.ALIGN, fullM.all(), shard.lo, n);
        copy(shard.v, Slab.ALIGN, fullV.all(), shard.lo, n);
        world.allGather(fullM.all(), shard.starts);
        world.allGather(fullV.all(), shard.starts);
        return new TrainingState(step, fullM, fullV, dataRng, dropoutCounter);
    }

    private static void copy(FloatArray from, int fromAt, FloatArray to, int toAt, int n) {
        java.lang.foreign.MemorySegment.copy(from.getSegment(), 4L * fromAt, to.getSegment(), 4L * toAt, 4L * n);
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
        exchange.close();
        session.close();
        if (deviceSums != null) {
            deviceSums.close();
        }
    }
}
