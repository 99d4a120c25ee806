package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.ops.AttentionOps;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.engine.ops.DecodeOps;
import dev.tgpt.engine.ops.DropoutOps;
import dev.tgpt.engine.ops.EmbeddingOps;
import dev.tgpt.engine.ops.FillOps;
import dev.tgpt.engine.ops.GeluOps;
import dev.tgpt.engine.ops.LayerNormOps;
import dev.tgpt.engine.ops.LoraOps;
import dev.tgpt.engine.ops.MatmulOps;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.engine.ops.ResidualOps;
import dev.tgpt.engine.ops.SparseAttentionOps;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A GPT decoder, forward and backward, as kernel launches: what to compute, not where (the engine runs the launches on
 * the JVM backend or a TornadoVM device). Shapes follow llm.c: N = B·T rows of C channels.
 *
 * <pre>
 * GPT-2/3 block (pre-LN):  x = x + drop(proj(attn(qkv(ln1(x)))));  x = x + drop(fcproj(gelu(fc(ln2(x)))))
 * GPT-1 block (post-LN):   x = ln1(x + drop(proj(attn(qkv(x)))));  x = ln2(x + drop(fcproj(gelu(fc(x)))))
 * output:                  logits = lnf(x)·wteᵀ (GPT-1: x·wteᵀ);  loss = cross-entropy(logits, targets)
 * </pre>
 *
 * Backward kernels add into gradients, so each buffer that receives gradient is zeroed first. One residual-gradient
 * buffer carries d(x) down the blocks, as in llm.c: a block's residual adds pass it through unchanged, and each
 * layer norm's backward adds its own part to it.
 */
public final class Gpt {

    public final GptConfig config;
    public final Parameters params;
    /**
     * The matmul weights packed for decoding, in order: each layer's qkv, attention projection, fc and fc projection,
     * then the head's (wte); null: decoding reads the parameters, as every other pass does.
     */
    private final List<QuantMatmulOps.Matrix> packed;
    /** LoRA adapters on the linear layers, trained while the parameters stay frozen; null: none. */
    public final Lora lora;
    /** The settings of the adapters the activations make room for: lora's, or a plan's (which allocates none). */
    private final Lora.Settings adapted;

    public Gpt(GptConfig config, Parameters params) {
        this(config, params, null, null);
    }

    private Gpt(GptConfig config, Parameters params, List<QuantMatmulOps.Matrix> packed, Lora lora) {
        this(config, params, packed, lora, lora == null ? null : lora.settings);
    }

    private Gpt(GptConfig config, Parameters params, List<QuantMatmulOps.Matrix> packed, Lora lora, Lora.Settings adapted) {
        this.config = config;
        this.params = params;
        this.packed = packed;
        this.lora = lora;
        this.adapted = adapted;
    }

    /**
     * This model with LoRA adapters on its linear layers: its forward adds each adapter's update, and its backward
     * gives gradients to the adapters alone (the weights are frozen: their gradients are not computed). The same
     * parameters, so this model without the adapters ({@link #withoutAdapters}) is its base.
     */
    public Gpt withAdapters(Lora adapters) {
        if (!adapters.config.withDropout(config.dropout()).equals(config)) {
            throw new IllegalArgumentException("adapters for " + adapters.config + " on " + config);
        }
        if (packed != null) {
            // an update rides on the fp32 matmul's store: packed weights decode with adapters merged in
            throw new IllegalArgumentException("adapters on weights packed for decoding: merge them in first");
        }
        return new Gpt(config, params, packed, adapters);
    }

    /** This model as {@code o} trains it: with fresh adapters (seeded by o's seed) when o asks for LoRA, else itself. */
    public Gpt trainedAs(Trainer.Options o) {
        return o.lora() == null ? this : withAdapters(new Lora(config, o.lora()).initialise(o.seed()));
    }

    /** This model without dropout (its adapters, if any, kept): how frozen passes and sampling run it. */
    public Gpt withoutDropout() {
        return new Gpt(config.withDropout(0f), params, packed, lora);
    }

    /** The base model: the same parameters, no adapters. */
    public Gpt withoutAdapters() {
        return new Gpt(config, params, packed, null);
    }

    /**
     * This model decoding with its matmul weights held as {@code format} (packed now, beside the parameters, which
     * the embedding and layer norms still read); fp32: this model.
     */
    public Gpt decodingWith(QuantMatmulOps.Format format) {
        if (format == QuantMatmulOps.Format.FP32) {
            return this;
        }
        int L = config.layers();
        int C = config.channels();
        List<FloatArray> weights = new ArrayList<>();
        int[] rows = new int[4 * L + 1];
        int[] cols = new int[4 * L + 1];
        for (int l = 0; l < L; l++) {
            Parameters.Layer p = params.layers[l];
            weights.addAll(List.of(p.qkvw(), p.attprojw(), p.fcw(), p.fcprojw()));
            System.arraycopy(new int[] { 3 * C, C, 4 * C, C }, 0, rows, 4 * l, 4);
            System.arraycopy(new int[] { C, C, C, 4 * C }, 0, cols, 4 * l, 4);
        }
        weights.add(params.wte);
        rows[4 * L] = config.vocabSize();
        cols[4 * L] = C;
        if (lora != null) {
            throw new UserError("decoding from packed weights takes a model without adapters: merge the adapter first");
        }
        return new Gpt(config, params, QuantMatmulOps.pack(format, weights, rows, cols), null);
    }

    /** The arrays this model's passes read weights from: the parameters', the packed weights and the adapters', if any. */
    public List<Object> weightArrays() {
        List<Object> out = new ArrayList<>();
        params.tensors().forEach(t -> out.add(t.data()));
        if (packed != null) {
            out.add(packed.getFirst().data());
            out.add(packed.getFirst().scales());
        }
        if (lora != null) {
            out.add(lora.all());
        }
        return out;
    }

    /**
     * Activations for one shape, kept from forward for backward, and their gradients: B sequences of T tokens, or, for
     * decoding, B sequences at one position with a KV cache per layer.
     */
    public final class Activations {
        public final int B;
        public final int T;
        final int N;
        /**
         * Decoding: one position per row, each row's in {@link #pos} (a device input), of the sequence whose KV cache
         * is slot {@link #slot}; keys and values in the caches. A decoder has a row per slot (slot[b] = b); a prefill
         * ({@link #prefill}) has rows of one sequence's prompt, writing into a decoder's caches.
         */
        public final boolean decode;
        public final IntArray pos;
        public final IntArray slot;
        /** Rows of prompt tokens into a decoder's caches: no logits (the prompt's last token is the decoder's). */
        public final boolean prefill;
        final FloatArray[] kcache;
        final FloatArray[] vcache;
        final FloatArray scores;
        private final List<Object> buffers = new ArrayList<>();
        /** Planning only: buffers are counted here, not allocated (they are all one placeholder). */
        private final boolean plan;
        /**
         * Recomputation (llm.c's -r): one GELU output and one attention-probability buffer serve every layer, and
         * backward recomputes a layer's from what it keeps (GELU's input; q and k) just before it needs them.
         */
        public final boolean recompute;
        private final FloatArray sharedFchg;
        private final FloatArray sharedAtt;
        private long planned;
        private long largest;
        /** Token ids [B·T] and next-token targets [B·T] (negative: ignored). */
        public final IntArray tokens;
        public final IntArray targets;
        /**
         * The dropout seed of this step (device input: it changes every step), and the index in the whole batch of
         * this batch's first element (a data-parallel rank's rows come after the lower ranks').
         */
        public final IntArray seed = new IntArray(2);
        /** d loss / d losses[n]: 1/(non-ignored targets · micro-steps) for a mean loss. */
        public final FloatArray dlosses;
        public final FloatArray encoded;
        public final FloatArray encodedDrop;
        final Block[] blocks;
        public final FloatArray lnf;
        final FloatArray lnfMean;
        final FloatArray lnfRstd;
        public final FloatArray logits;
        public final FloatArray losses;
        /** Per position: log Σ exp(logits), kept by the cross-entropy for its backward (a policy's entropy reads it). */
        public final FloatArray logSumExp;
        // gradients of activations; one set of block buffers serves every layer in turn (datt: the attention
        // backward's scratch, which its kernels overwrite)
        final FloatArray dresidual;
        final FloatArray dlnf;
        final FloatArray dlogits;
        final FloatArray dln;
        final FloatArray dqkv;
        final FloatArray datt;
        final FloatArray datty;
        final FloatArray dbranch;
        final FloatArray dfch;
        final FloatArray dfchg;
        /** LoRA: each adapted layer's x·Aᵀ [N, r], kept for backward ([layer][target]), and its gradient's scratch. */
        final FloatArray[][] loraH;
        final FloatArray loraDh;

        Activations(int B, int T, boolean decode, boolean plan, boolean recompute) {
            this(B, T, decode, plan, recompute, null);
        }

        /** cachesOf: the decoder whose KV caches a prefill writes (null: none, or these are the decoder's own). */
        Activations(int B, int T, boolean decode, boolean plan, boolean recompute, Activations cachesOf) {
            this.plan = plan;
            this.recompute = recompute;
            if (T > config.context()) {
                throw new IllegalArgumentException("T = " + T + " exceeds the context " + config.context());
            }
            this.B = B;
            this.T = T;
            this.N = B * T;
            this.decode = decode;
            this.prefill = cachesOf != null;
            pos = new IntArray(decode ? B : 1);
            slot = new IntArray(decode ? B : 1);
            int C = config.channels();
            int V = config.vocabSize();
            if (prefill) {
                kcache = cachesOf.kcache;
                vcache = cachesOf.vcache;
                if (!plan) {
                    buffers.addAll(List.of(kcache));
                    buffers.addAll(List.of(vcache));
                }
            } else {
                long cache = decode ? (long) B * C * config.context() : 0;
                kcache = new FloatArray[decode ? config.layers() : 0];
                vcache = new FloatArray[kcache.length];
                for (int l = 0; l < kcache.length; l++) {
                    kcache[l] = buffer(cache);
                    vcache[l] = buffer(cache);
                }
                for (int b = 0; decode && b < B; b++) {
                    slot.set(b, b);
                }
                if (decode && !plan) {
                    buffers.add(slot);
                }
            }
            scores = decode ? buffer((long) B * config.heads() * config.context()) : null;
            tokens = ints(N);
            targets = ints(N);
            dlosses = io(N);
            encoded = buffer((long) N * C);
            encodedDrop = dropout() ? buffer((long) N * C) : encoded;
            long maxAtt = 0;
            for (int l = 0; l < config.layers(); l++) {
                maxAtt = Math.max(maxAtt, attentionSize(l));
            }
            sharedFchg = recompute ? buffer((long) N * 4 * C) : null;
            sharedAtt = recompute ? buffer(maxAtt) : null;
            blocks = new Block[config.layers()];
            for (int l = 0; l < blocks.length; l++) {
                blocks[l] = new Block(attentionSize(l));
            }
            lnf = buffer((long) N * C);
            lnfMean = buffer(N);
            lnfRstd = buffer(N);
            logits = buffer((long) N * V);
            losses = io(N);
            logSumExp = buffer(N);
            dresidual = buffer((long) N * C);
            dlnf = buffer((long) N * C);
            dlogits = buffer((long) N * V);
            dln = buffer((long) N * C);
            dqkv = buffer((long) N * 3 * C);
            datt = buffer(maxAtt);
            datty = buffer((long) N * C);
            dbranch = buffer((long) N * C);
            dfch = buffer((long) N * 4 * C);
            dfchg = buffer((long) N * 4 * C);
            loraH = new FloatArray[adapted == null ? 0 : config.layers()][Lora.Target.values().length];
            for (int l = 0; l < loraH.length; l++) {
                for (Lora.Target t : adapted.targets()) {
                    loraH[l][t.ordinal()] = buffer((long) N * adapted.rank());
                }
            }
            loraDh = adapted == null || decode ? null : buffer((long) N * adapted.rank());
        }

        private FloatArray buffer(long n) {
            planned += n;
            largest = Math.max(largest, n);
            if (plan) {
                return PLACEHOLDER;
            }
            if (n > Integer.MAX_VALUE) {
                throw new UserError(String.format("B = %d, T = %d needs an activation of %,d floats, over the %,d one array may hold: use a smaller "
                        + "batch or context", B, T, n, Integer.MAX_VALUE));
            }
            FloatArray a = new FloatArray((int) n);
            buffers.add(a);
            return a;
        }

        /** A host-visible array (an input or output of the programs, not in {@link #buffers}), counted. */
        private FloatArray io(int n) {
            planned += n;
            return plan ? PLACEHOLDER : new FloatArray(n);
        }

        private IntArray ints(int n) {
            planned += n;
            return new IntArray(plan ? 1 : n);
        }

        /** Bytes of every array these activations hold (the buffers, tokens, targets and losses). */
        public long bytes() {
            return 4 * planned;
        }

        Footprint footprint() {
            return new Footprint(bytes(), 4 * largest);
        }

        /**
         * Every activation and activation-gradient buffer: device state that no host code reads (a decoder's slots
         * among them; a prefill's: the decoder's caches it writes).
         */
        public List<Object> buffers() {
            return java.util.Collections.unmodifiableList(buffers);
        }

        /** Attention probabilities kept per layer: [B, NH, T, T], or [B, NH, T, K] for a banded layer. */
        private long attentionSize(int l) {
            int keys = config.banded(l) ? band().maxKeys(T) : T;
            return (long) B * config.heads() * T * keys;
        }

        /** One block's saved activations. */
        final class Block {
            final FloatArray ln1 = buffer((long) N * config.channels());
            final FloatArray ln1Mean = buffer(N);
            final FloatArray ln1Rstd = buffer(N);
            final FloatArray qkv = buffer((long) N * 3 * config.channels());
            final FloatArray att;
            final FloatArray atty = buffer((long) N * config.channels());
            final FloatArray attproj = buffer((long) N * config.channels());
            final FloatArray attprojDrop = dropout() ? buffer((long) N * config.channels()) : attproj;
            final FloatArray res2 = buffer((long) N * config.channels());
            final FloatArray ln2 = buffer((long) N * config.channels());
            final FloatArray ln2Mean = buffer(N);
            final FloatArray ln2Rstd = buffer(N);
            final FloatArray fch = buffer((long) N * 4 * config.channels());
            final FloatArray fchg = recompute ? sharedFchg : buffer((long) N * 4 * config.channels());
            final FloatArray fcproj = buffer((long) N * config.channels());
            final FloatArray fcprojDrop = dropout() ? buffer((long) N * config.channels()) : fcproj;
            final FloatArray res3 = buffer((long) N * config.channels());

            Block(long attSize) {
                att = recompute ? sharedAtt : buffer(attSize);
            }
        }

        /** The hidden states the output layer reads: the final norm's output (GPT-2/3), or the last block's (GPT-1). */
        public FloatArray finalHidden() {
            return params.lnfw != null ? lnf : input(config.layers(), false);
        }

        /** d loss / d {@link #finalHidden()} during backward; a head adds its part here. */
        public FloatArray finalHiddenGradient() {
            return params.lnfw != null ? dlnf : dresidual;
        }

        /** The block's input: the embeddings (after dropout when training), or the previous block's output. */
        FloatArray input(int l, boolean drop) {
            if (l == 0) {
                return drop ? encodedDrop : encoded;
            }
            Block prev = blocks[l - 1];
            return config.style() == GptConfig.Style.GPT1 ? prev.ln2 : prev.res3;
        }
    }

    public Activations activations(int B, int T) {
        return activations(B, T, false);
    }

    /** Training activations, with {@code recompute}: fewer kept, the rest recomputed in backward (same results). */
    public Activations activations(int B, int T, boolean recompute) {
        return new Activations(B, T, false, false, recompute);
    }

    /** What a set of activations takes: bytes in all, and the bytes of its largest array (one device buffer). */
    public record Footprint(long bytes, long largest) {
    }

    /** A model's training activations for B sequences of T tokens, counted without allocating them. */
    public static Footprint activationFootprint(GptConfig config, int B, int T, boolean recompute) {
        return activationFootprint(config, B, T, recompute, null);
    }

    /** As {@link #activationFootprint(GptConfig, int, int, boolean)}, of a model with adapters of these settings (null: none). */
    public static Footprint activationFootprint(GptConfig config, int B, int T, boolean recompute, Lora.Settings lora) {
        Gpt g = new Gpt(config, null, null, null, lora);
        return g.new Activations(B, T, false, true, recompute).footprint();
    }

    /** A model's decoding activations for B sequences (the KV cache of the whole context among them), counted. */
    public static Footprint decoderFootprint(GptConfig config, int B) {
        return new Gpt(config, null).new Activations(B, 1, true, true, false).footprint();
    }

    /** What a {@link Sampler} of B slots holds: a decoder's activations and a prefill's, counted. */
    public static Footprint samplerFootprint(GptConfig config, int B) {
        Gpt g = new Gpt(config, null);
        Footprint decoder = decoderFootprint(config, B);
        Footprint prefill = g.new Activations(prefillRows(config), 1, true, true, false, g.new Activations(1, 1, true, true, false)).footprint();
        return new Footprint(decoder.bytes() + prefill.bytes(), Math.max(decoder.largest(), prefill.largest()));
    }

    /** What a planning Activations hands out for every buffer. */
    private static final FloatArray PLACEHOLDER = new FloatArray(1);

    /** Activations for decoding B sequences one position at a time, with a KV cache of the whole context. */
    public Activations decoder(int B) {
        return new Activations(B, 1, true, false, false);
    }

    /**
     * Activations for prefilling {@link #prefillRows} tokens of one sequence's prompt at a time into the decoder's
     * caches (its slot and positions in {@code slot} and {@code pos}, host inputs).
     */
    public Activations prefiller(Activations decoder) {
        return new Activations(prefillRows(config), 1, true, false, false, decoder);
    }

    /** Prompt tokens a prefill launch takes. */
    public static int prefillRows(GptConfig config) {
        return Math.min(64, config.context());
    }

    /** out = in·wᵀ + b over a's rows: from the packed weight {@code matrix} when decoding with one, else from w. */
    private Launch linear(Activations a, int matrix, FloatArray out, FloatArray in, FloatArray w, FloatArray b, int C, int OC) {
        return a.decode && packed != null ? QuantMatmulOps.forward(out, in, packed.get(matrix), b, a.N) : MatmulOps.forward(out, in, w, b, a.N, C, OC);
    }

    /** Block l's linear layer t: out = in·wᵀ + b, with its adapter's update if it has one. */
    private void linear(List<Launch> out, Activations a, int l, Lora.Target t, FloatArray y, FloatArray in, FloatArray w, FloatArray b, int C, int OC) {
        Lora.Pair p = lora == null ? null : lora.pair(l, t);
        if (p == null) {
            out.add(linear(a, 4 * l + t.ordinal(), y, in, w, b, C, OC));
        } else {
            out.addAll(LoraOps.forward(y, a.loraH[l][t.ordinal()], in, w, b, p.a(), p.b(), lora.settings.scale(), a.N, C, OC, lora.settings.rank()));
        }
    }

    /**
     * Backward of block l's linear layer t: d(in) always; the weight's and bias's gradients unless the model is frozen
     * (it has adapters), and then the adapter's, into {@code adapterGrads}.
     */
    private void linearBackward(List<Launch> out, Activations a, Lora adapterGrads, int l, Lora.Target t, FloatArray dinp, Parameters.Layer g,
            FloatArray dout, FloatArray inp, FloatArray w, int C, int OC) {
        if (lora == null) {
            FloatArray[][] gw = { { g.qkvw(), g.qkvb() }, { g.attprojw(), g.attprojb() }, { g.fcw(), g.fcb() }, { g.fcprojw(), g.fcprojb() } };
            out.addAll(MatmulOps.backward(dinp, gw[t.ordinal()][0], gw[t.ordinal()][1], dout, inp, w, a.N, C, OC));
            return;
        }
        Lora.Pair p = lora.pair(l, t);
        if (p == null) {
            out.add(MatmulOps.backwardInput(dinp, dout, w, a.N, C, OC));
        } else {
            Lora.Pair d = adapterGrads.pair(l, t);
            out.addAll(LoraOps.backward(dinp, d.a(), d.b(), a.loraDh, dout, inp, a.loraH[l][t.ordinal()], w, p.a(), p.b(), lora.settings.scale(), a.N,
                    C, OC, lora.settings.rank()));
        }
    }

    /** A layer norm's backward: d(in), and its weights' gradients unless the model is frozen (grads null). */
    private List<Launch> layerNormBackward(Parameters grads, FloatArray dinp, FloatArray dw, FloatArray db, FloatArray dout, FloatArray inp,
            FloatArray w, FloatArray mean, FloatArray rstd, int N, int C) {
        return grads == null ? List.of(LayerNormOps.backwardInput(dinp, dout, inp, w, mean, rstd, N, C))
                : LayerNormOps.backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
    }

    private boolean dropout() {
        return config.dropout() > 0;
    }

    private SparseAttentionOps.Pattern band() {
        return SparseAttentionOps.Pattern.banded(config.band());
    }

    /**
     * Forward pass to the logits and per-position losses. With {@code training}, dropout is applied with the seed in
     * {@code a.seed}; without, each layer reads the undropped buffers. Decoding activations give the logits of one
     * position per sequence, and add its keys and values to the caches.
     */
    public List<Launch> forward(Activations a, boolean training) {
        List<Launch> out = new ArrayList<>();
        int B = a.B, T = a.T, N = a.N, C = config.channels(), V = config.vocabSize(), NH = config.heads();
        boolean drop = training && dropout();
        boolean postLn = config.style() == GptConfig.Style.GPT1;
        out.add(a.decode ? DecodeOps.embedding(a.encoded, a.tokens, a.pos, params.wte, params.wpe, B, C, V)
                : EmbeddingOps.forward(a.encoded, a.tokens, params.wte, params.wpe, B, T, C, V));
        if (drop) {
            out.add(DropoutOps.forward(a.encodedDrop, a.encoded, a.seed, 0, config.dropout(), N * C));
        }
        for (int l = 0; l < config.layers(); l++) {
            Parameters.Layer p = params.layers[l];
            Activations.Block k = a.blocks[l];
            FloatArray x = a.input(l, drop);
            if (!postLn) {
                out.add(LayerNormOps.forward(k.ln1, k.ln1Mean, k.ln1Rstd, x, p.ln1w(), p.ln1b(), N, C));
            }
            linear(out, a, l, Lora.Target.QKV, k.qkv, postLn ? x : k.ln1, p.qkvw(), p.qkvb(), C, 3 * C);
            if (a.decode) {
                out.add(DecodeOps.cacheWrite(a.kcache[l], a.vcache[l], k.qkv, a.pos, a.slot, B, C, NH, config.context()));
                out.add(DecodeOps.attention(k.atty, a.scores, k.qkv, a.kcache[l], a.vcache[l], a.pos, a.slot, B, C, NH, config.context(),
                        config.banded(l) ? config.band() : 0));
            } else {
                out.add(attention(k, B, T, l));
            }
            linear(out, a, l, Lora.Target.PROJ, k.attproj, k.atty, p.attprojw(), p.attprojb(), C, C);
            if (drop) {
                out.add(DropoutOps.forward(k.attprojDrop, k.attproj, a.seed, 1 + 2 * l, config.dropout(), N * C));
            }
            out.add(ResidualOps.forward(k.res2, x, drop ? k.attprojDrop : k.attproj, N * C));
            // GPT-1 normalises the sum (ln1 = ln_1(x + attention), the MLP's input); GPT-2 the MLP's input only
            FloatArray mlpIn = postLn ? k.ln1 : k.ln2;
            out.add(postLn ? LayerNormOps.forward(k.ln1, k.ln1Mean, k.ln1Rstd, k.res2, p.ln1w(), p.ln1b(), N, C)
                    : LayerNormOps.forward(k.ln2, k.ln2Mean, k.ln2Rstd, k.res2, p.ln2w(), p.ln2b(), N, C));
            linear(out, a, l, Lora.Target.FC, k.fch, mlpIn, p.fcw(), p.fcb(), C, 4 * C);
            out.add(GeluOps.forward(k.fchg, k.fch, N * 4 * C));
            linear(out, a, l, Lora.Target.FCPROJ, k.fcproj, k.fchg, p.fcprojw(), p.fcprojb(), 4 * C, C);
            if (drop) {
                out.add(DropoutOps.forward(k.fcprojDrop, k.fcproj, a.seed, 2 + 2 * l, config.dropout(), N * C));
            }
            out.add(ResidualOps.forward(k.res3, postLn ? k.ln1 : k.res2, drop ? k.fcprojDrop : k.fcproj, N * C));
            if (postLn) {
                out.add(LayerNormOps.forward(k.ln2, k.ln2Mean, k.ln2Rstd, k.res3, p.ln2w(), p.ln2b(), N, C));
            }
        }
        if (a.prefill) {
            return out; // the caches are written; the prompt's last token, decoded, gives the logits
        }
        FloatArray head = a.input(config.layers(), drop);
        if (params.lnfw != null) {
            out.add(LayerNormOps.forward(a.lnf, a.lnfMean, a.lnfRstd, head, params.lnfw, params.lnfb, N, C));
            head = a.lnf;
        }
        out.add(linear(a, 4 * config.layers(), a.logits, head, params.wte, null, C, V));
        if (!a.decode) {
            out.add(CrossEntropyOps.forward(a.losses, a.logSumExp, a.logits, a.targets, N, V));
        }
        return out;
    }

    /**
     * Backward pass of a training forward, adding into {@code grads}. dresidual holds d(block output) on the way down;
     * the residual adds need no launch of their own: the accumulating kernels add each branch's gradient into it.
     */
    public List<Launch> backward(Activations a, Parameters grads) {
        return backward(a, grads, List.of());
    }

    /** As {@link #backward(Activations, Parameters)}, with a head's backward adding into the final hidden states' gradient. */
    public List<Launch> backward(Activations a, Parameters grads, List<Launch> head) {
        return backward(a, grads, head, l -> null);
    }

    /**
     * As {@link #backward(Activations, Parameters, List)}, with {@code afterLayer.apply(l)} (a launch, or null) added
     * where layer l's gradients are final: the layers below it still to come, which the exchange of layer l's
     * gradients with other ranks can overlap.
     */
    public List<Launch> backward(Activations a, Parameters grads, List<Launch> head, IntFunction<Launch> afterLayer) {
        if (lora != null) {
            throw new IllegalStateException("a model with adapters trains them: backward(activations, adapterGradients, head)");
        }
        return backward(a, grads, null, head, afterLayer);
    }

    /**
     * Backward of a model with adapters ({@link #withAdapters}): the gradients of the adapters alone, into
     * {@code adapterGrads} (shaped as {@link #lora}); the frozen weights get none, and no weight gradient is computed.
     */
    public List<Launch> backward(Activations a, Lora adapterGrads, List<Launch> head) {
        if (lora == null) {
            throw new IllegalStateException("no adapters to train: backward(activations, grads, head)");
        }
        return backward(a, null, adapterGrads, head, l -> null);
    }

    /** grads null: the weights are frozen (a model with adapters, whose gradients go to adapterGrads). */
    private List<Launch> backward(Activations a, Parameters grads, Lora adapterGrads, List<Launch> head, IntFunction<Launch> afterLayer) {
        List<Launch> out = new ArrayList<>();
        int B = a.B, T = a.T, N = a.N, C = config.channels(), V = config.vocabSize(), NH = config.heads();
        boolean drop = dropout();
        boolean postLn = config.style() == GptConfig.Style.GPT1;
        boolean frozen = grads == null;
        FloatArray d = a.dresidual;
        out.add(FillOps.fill(a.dlogits, 0f));
        out.add(FillOps.fill(d, 0f));
        out.add(CrossEntropyOps.backward(a.dlogits, a.logits, a.logSumExp, a.targets, a.dlosses, N, V));
        FloatArray last = a.input(config.layers(), drop);
        FloatArray dhead = params.lnfw != null ? a.dlnf : d;
        if (params.lnfw != null) {
            out.add(FillOps.fill(a.dlnf, 0f));
        }
        if (frozen) {
            out.add(MatmulOps.backwardInput(dhead, a.dlogits, params.wte, N, C, V));
        } else {
            out.addAll(MatmulOps.backward(dhead, grads.wte, null, a.dlogits, params.lnfw != null ? a.lnf : last, params.wte, N, C, V));
        }
        out.addAll(head);
        if (params.lnfw != null) {
            out.addAll(layerNormBackward(grads, d, frozen ? null : grads.lnfw, frozen ? null : grads.lnfb, a.dlnf, last, params.lnfw, a.lnfMean, a.lnfRstd,
                    N, C));
        }
        for (int l = config.layers() - 1; l >= 0; l--) {
            Parameters.Layer p = params.layers[l];
            Parameters.Layer g = frozen ? null : grads.layers[l];
            Activations.Block k = a.blocks[l];
            FloatArray x = a.input(l, drop);
            // the MLP half: d(res3) is in dresidual (GPT-2), or comes out of ln_2's backward into dln (GPT-1)
            FloatArray dres3 = d;
            if (postLn) {
                out.add(FillOps.fill(a.dln, 0f));
                out.addAll(layerNormBackward(grads, a.dln, frozen ? null : g.ln2w(), frozen ? null : g.ln2b(), d, k.res3, p.ln2w(), k.ln2Mean, k.ln2Rstd,
                        N, C));
                dres3 = a.dln;
            }
            FloatArray dfcproj = dropoutBackward(out, drop, a, dres3, 2 + 2 * l, N * C);
            if (a.recompute) {
                out.add(GeluOps.forward(k.fchg, k.fch, N * 4 * C));
            }
            out.add(FillOps.fill(a.dfchg, 0f));
            linearBackward(out, a, adapterGrads, l, Lora.Target.FCPROJ, a.dfchg, g, dfcproj, k.fchg, p.fcprojw(), 4 * C, C);
            out.add(FillOps.fill(a.dfch, 0f));
            out.add(GeluOps.backward(a.dfch, a.dfchg, k.fch, N * 4 * C));
            if (postLn) {
                // res3 = ln1 + mlp(ln1): d(ln1) = d(res3) (already in dln) + the MLP's part; then ln_1 into d(res2)
                linearBackward(out, a, adapterGrads, l, Lora.Target.FC, a.dln, g, a.dfch, k.ln1, p.fcw(), C, 4 * C);
                out.add(FillOps.fill(d, 0f));
                out.addAll(layerNormBackward(grads, d, frozen ? null : g.ln1w(), frozen ? null : g.ln1b(), a.dln, k.res2, p.ln1w(), k.ln1Mean, k.ln1Rstd,
                        N, C));
            } else {
                out.add(FillOps.fill(a.dln, 0f));
                linearBackward(out, a, adapterGrads, l, Lora.Target.FC, a.dln, g, a.dfch, k.ln2, p.fcw(), C, 4 * C);
                out.addAll(layerNormBackward(grads, d, frozen ? null : g.ln2w(), frozen ? null : g.ln2b(), a.dln, k.res2, p.ln2w(), k.ln2Mean, k.ln2Rstd,
                        N, C));
            }
            // the attention half: d(res2) is in dresidual; res2 = x + attention, so it also carries d(x)
            FloatArray dattproj = dropoutBackward(out, drop, a, d, 1 + 2 * l, N * C);
            out.add(FillOps.fill(a.datty, 0f));
            linearBackward(out, a, adapterGrads, l, Lora.Target.PROJ, a.datty, g, dattproj, k.atty, p.attprojw(), C, C);
            if (a.recompute) {
                // the forward again, for this layer's probabilities: it rewrites atty with the same values
                out.add(attention(k, B, T, l));
            }
            out.add(FillOps.fill(a.dqkv, 0f));
            out.addAll(config.banded(l) ? SparseAttentionOps.backward(a.dqkv, a.datt, a.datty, k.qkv, k.att, B, T, C, NH, band())
                    : AttentionOps.backward(a.dqkv, a.datt, a.datty, k.qkv, k.att, B, T, C, NH));
            if (postLn) {
                linearBackward(out, a, adapterGrads, l, Lora.Target.QKV, d, g, a.dqkv, x, p.qkvw(), C, 3 * C);
            } else {
                out.add(FillOps.fill(a.dln, 0f));
                linearBackward(out, a, adapterGrads, l, Lora.Target.QKV, a.dln, g, a.dqkv, k.ln1, p.qkvw(), C, 3 * C);
                out.addAll(layerNormBackward(grads, d, frozen ? null : g.ln1w(), frozen ? null : g.ln1b(), a.dln, x, p.ln1w(), k.ln1Mean, k.ln1Rstd, N, C));
            }
            Launch done = afterLayer.apply(l);
            if (done != null) {
                out.add(done);
            }
        }
        if (!frozen) {
            FloatArray dencoded = dropoutBackward(out, drop, a, d, 0, N * C);
            out.addAll(EmbeddingOps.backward(grads.wte, grads.wpe, dencoded, a.tokens, B, T, C, V));
        }
        return out;
    }

    /** Layer l's causal attention, dense or banded: atty and the probabilities att from qkv. */
    private Launch attention(Activations.Block k, int B, int T, int l) {
        int C = config.channels(), NH = config.heads();
        return config.banded(l) ? SparseAttentionOps.forward(k.atty, k.att, k.qkv, B, T, C, NH, band())
                : AttentionOps.forward(k.atty, k.att, k.qkv, B, T, C, NH);
    }

    /** d(branch before dropout) from d(branch after dropout): a.dbranch, or the same buffer without dropout. */
    private FloatArray dropoutBackward(List<Launch> out, boolean drop, Activations a, FloatArray dafter, int stream, int n) {
        if (!drop) {
            return dafter;
        }
        out.add(FillOps.fill(a.dbranch, 0f));
        out.add(DropoutOps.backward(a.dbranch, dafter, a.seed, stream, config.dropout(), n));
        return a.dbranch;
    }
}
