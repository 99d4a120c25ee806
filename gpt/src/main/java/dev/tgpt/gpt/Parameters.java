package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import dev.tgpt.engine.Slab;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A GPT's parameter tensors, one FloatArray each, named as Hugging Face's GPT2LMHeadModel names them. Matrices are
 * kept as [out, in] (nn.Linear's layout, which the kernels take); HF's GPT-2 stores its Conv1D weights as [in, out],
 * so import and export transpose those ({@link Tensor#transposedInHf}). The output layer is tied to wte.
 * The same class holds gradients and AdamW's moments, tensor for tensor. All tensors are views of one {@link Slab}:
 * one array for TornadoVM to hand between task graphs, however deep the model.
 */
public final class Parameters {

    /**
     * @param shape          in tgpt's layout
     * @param transposedInHf stored as [in, out] by Hugging Face's GPT-2 (its Conv1D)
     * @param decay          weight decay applies (matrices and embeddings; not biases or layer-norm parameters)
     * @param residualOut    a projection into the residual stream (GPT-2 scales its initialisation by 1/√(2·layers))
     */
    public record Tensor(String name, int[] shape, boolean transposedInHf, boolean decay, boolean residualOut, FloatArray data) {

        public int size() {
            return data.getSize();
        }
    }

    /** One block's tensors. */
    public record Layer(FloatArray ln1w, FloatArray ln1b, FloatArray qkvw, FloatArray qkvb, FloatArray attprojw, FloatArray attprojb,
            FloatArray ln2w, FloatArray ln2b, FloatArray fcw, FloatArray fcb, FloatArray fcprojw, FloatArray fcprojb) {
    }

    public final GptConfig config;
    public final FloatArray wte;
    public final FloatArray wpe;
    public final Layer[] layers;
    /** The final layer norm (GPT-2 and GPT-3); null for GPT-1. */
    public final FloatArray lnfw;
    public final FloatArray lnfb;
    private final List<Tensor> tensors = new ArrayList<>();
    /** Every tensor, in one device buffer: the tensors that decay first, so AdamW runs over two regions of it. */
    private final Slab slab;
    private final FloatArray decayed;
    private final FloatArray undecayed;

    private record Spec(String name, boolean transposedInHf, boolean decay, boolean residualOut, int... shape) {

        int size() {
            int n = 1;
            for (int d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /** The tensors of a model of this shape, in Hugging Face's order. */
    private static List<Spec> specs(GptConfig c) {
        int C = c.channels();
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("transformer.wte.weight", false, true, false, c.vocabSize(), C));
        specs.add(new Spec("transformer.wpe.weight", false, true, false, c.context(), C));
        for (int l = 0; l < c.layers(); l++) {
            String h = "transformer.h." + l + ".";
            specs.add(new Spec(h + "ln_1.weight", false, false, false, C));
            specs.add(new Spec(h + "ln_1.bias", false, false, false, C));
            specs.add(new Spec(h + "attn.c_attn.weight", true, true, false, 3 * C, C));
            specs.add(new Spec(h + "attn.c_attn.bias", false, false, false, 3 * C));
            specs.add(new Spec(h + "attn.c_proj.weight", true, true, true, C, C));
            specs.add(new Spec(h + "attn.c_proj.bias", false, false, false, C));
            specs.add(new Spec(h + "ln_2.weight", false, false, false, C));
            specs.add(new Spec(h + "ln_2.bias", false, false, false, C));
            specs.add(new Spec(h + "mlp.c_fc.weight", true, true, false, 4 * C, C));
            specs.add(new Spec(h + "mlp.c_fc.bias", false, false, false, 4 * C));
            specs.add(new Spec(h + "mlp.c_proj.weight", true, true, true, C, 4 * C));
            specs.add(new Spec(h + "mlp.c_proj.bias", false, false, false, C));
        }
        boolean finalNorm = c.style() != GptConfig.Style.GPT1;
        if (finalNorm) {
            specs.add(new Spec("transformer.ln_f.weight", false, false, false, C));
            specs.add(new Spec("transformer.ln_f.bias", false, false, false, C));
        }
        return specs;
    }

    /** Floats in each of a model's slabs (parameters, gradients, each moment), gaps included: a memory plan's unit. */
    public static long slabFloats(GptConfig c) {
        return Slab.floats(specs(c).stream().mapToInt(Spec::size).toArray());
    }

    public Parameters(GptConfig c) {
        this.config = c;
        List<Spec> specs = specs(c);
        List<Spec> layout = new ArrayList<>(specs.stream().filter(Spec::decay).toList());
        int decaying = layout.size();
        layout.addAll(specs.stream().filter(t -> !t.decay()).toList());
        slab = new Slab(layout.stream().mapToInt(Spec::size).toArray());
        decayed = slab.region(0, decaying);
        undecayed = slab.region(decaying, slab.size());
        FloatArray[] data = new FloatArray[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            Spec t = specs.get(i);
            data[i] = slab.view(layout.indexOf(t));
            tensors.add(new Tensor(t.name(), t.shape(), t.transposedInHf(), t.decay(), t.residualOut(), data[i]));
        }
        int next = 0;
        wte = data[next++];
        wpe = data[next++];
        layers = new Layer[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            layers[l] = new Layer(data[next++], data[next++], data[next++], data[next++], data[next++], data[next++], data[next++], data[next++],
                    data[next++], data[next++], data[next++], data[next++]);
        }
        boolean finalNorm = c.style() != GptConfig.Style.GPT1;
        lnfw = finalNorm ? data[next++] : null;
        lnfb = finalNorm ? data[next++] : null;
    }

    /** Every tensor as one array (with zero gaps between them): for work over all of them, as zeroing or a norm. */
    public FloatArray all() {
        return slab.base();
    }

    /** The tensors weight decay applies to, as one array (zero gaps between them). */
    public FloatArray decayed() {
        return decayed;
    }

    /** The tensors weight decay does not apply to (biases, layer norms), as one array. */
    public FloatArray undecayed() {
        return undecayed;
    }

    /** Every tensor, in a fixed order (embeddings, blocks, final norm). */
    public List<Tensor> tensors() {
        return Collections.unmodifiableList(tensors);
    }

    public long count() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.size();
        }
        return n;
    }

    /**
     * GPT-2's initialisation: weights ~ N(0, 0.02²), residual projections ~ N(0, (0.02/√(2·layers))²), biases 0,
     * layer-norm weights 1. Deterministic for a seed.
     */
    public void initialise(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.layers());
        for (Tensor t : tensors) {
            boolean layerNormWeight = t.name().endsWith("ln_1.weight") || t.name().endsWith("ln_2.weight") || t.name().endsWith("ln_f.weight");
            if (t.shape().length == 1) {
                t.data().init(layerNormWeight ? 1f : 0f);
            } else {
                normal(t.data(), t.residualOut() ? residualStd : 0.02, random);
            }
        }
    }

    /** Fills data with N(0, std²) deviates (a head's initialisation too). */
    public static void normal(FloatArray data, double std, SplittableRandom random) {
        for (int i = 0; i < data.getSize(); i++) {
            data.set(i, (float) (gaussian(random) * std));
        }
    }

    /** A standard normal deviate (Box–Muller), from a SplittableRandom so that a seed fixes the whole model. */
    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /** All tensors set to zero (gradients, moments). */
    public void zero() {
        slab.base().clear();
    }

    public Tensor tensor(String name) {
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("no parameter " + name);
    }
}
