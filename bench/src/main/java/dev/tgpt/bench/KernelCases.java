package dev.tgpt.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.check.Checks;
import dev.tgpt.engine.ops.AdamWOps;
import dev.tgpt.engine.ops.AttentionOps;
import dev.tgpt.engine.ops.CrossEntropyOps;
import dev.tgpt.engine.ops.EmbeddingOps;
import dev.tgpt.engine.ops.GeluOps;
import dev.tgpt.engine.ops.LayerNormOps;
import dev.tgpt.engine.ops.MatmulOps;
import dev.tgpt.engine.ops.ResidualOps;
import dev.tgpt.engine.ops.SoftmaxOps;
import dev.tgpt.engine.ops.SparseAttentionOps;
import dev.tgpt.engine.ops.SparseAttentionOps.Pattern;
import dev.tgpt.kernels.AdamW;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Every kernel's forward and backward (AdamW: its update) at GPT-2 small's shapes, over sizes from small to large, and
 * how to launch each: the cases of {@code ./tgpt bench}, of the JMH benchmarks, and of {@code bench/python/torch_kernels.py},
 * which runs the same computation in PyTorch (see there for each case's PyTorch twin).
 *
 * <p>Sizes grow with the rows N = B·T of a batch (C = 768, 12 heads of 64, vocabulary 50,257), or with T for
 * attention (B = 1), so each kernel gets a throughput-vs-size line. Flop counts are the multiply-adds of the math
 * (causal attention: the lower triangle only); byte counts are the least traffic (each input read once, each output
 * written once, an accumulated gradient read and written).
 */
public final class KernelCases {

    static final int C = 768;
    static final int HEADS = 12;
    static final int VOCAB = 50257;
    /** Sparse Transformer's stride at the benchmark's T: l ≈ √T. */
    static final int STRIDE = 64;

    private KernelCases() {
    }

    /** All cases, smallest first within each kernel; quick: two small sizes per kernel, for a run of a minute or two. */
    public static List<Case> all(boolean quick) {
        int[] rows = quick ? new int[] { 64, 256 } : new int[] { 64, 256, 1024, 4096 };
        int[] seq = quick ? new int[] { 128, 256 } : new int[] { 128, 256, 512, 1024 };
        int[] sparseSeq = quick ? new int[] { 256, 1024 } : new int[] { 256, 1024, 4096 };
        List<Case> out = new ArrayList<>();
        for (int N : rows) {
            out.addAll(matmul(N, C, 4 * C));
        }
        if (!quick) {
            // a decoding step's largest product: one row against GPT-2's output layer, 154 MB of weights read once
            out.add(matmul(1, C, VOCAB).getFirst());
        }
        for (int N : rows) {
            out.addAll(layernorm(N, C));
        }
        for (int N : rows) {
            out.addAll(gelu(N, 4 * C));
        }
        for (int N : rows) {
            out.addAll(residual(N, C));
        }
        for (int N : rows) {
            // one sequence of T = N: B·T rows of wte, T of wpe
            out.addAll(embedding(1, N, C, VOCAB));
        }
        for (int N : rows) {
            out.addAll(crossentropy(N, VOCAB));
        }
        for (int T : seq) {
            // softmax over the attention scores of one sequence's heads: HEADS·T rows of T
            out.addAll(softmax(HEADS * T, T));
        }
        for (int T : seq) {
            out.addAll(attention(1, T, HEADS, C / HEADS));
        }
        for (int T : sparseSeq) {
            out.addAll(sparseAttention(1, T, HEADS, C / HEADS, STRIDE));
        }
        // AdamW over a GPT-2-small-sized share of parameters: n = N·C·4 (as many as the fc layer's weight at N = C)
        for (int N : rows) {
            out.add(adamw(N * C * 4));
        }
        return out;
    }

    /**
     * A data-centre GPU's shapes (issue 19): matmul at 4096³ and at GPT-2's MLP over B·T = 8,192 rows; layer norm,
     * GELU, residual, cross-entropy and softmax at GPT-2's sizes for B = 8, T = 1,024; causal attention at B = 8,
     * H = 12, T = 1,024, d = 64; sparse attention at T = 4,096 and 16,384 (stride √T) beside dense attention at
     * 4,096 (at 16,384 a dense score matrix, 3.2G floats, exceeds one array); AdamW over GPT-2's 124M parameters.
     */
    public static List<Case> gpu() {
        int B = 8, T = 1024, N = B * T;
        List<Case> out = new ArrayList<>(matmul(4096, 4096, 4096));
        out.addAll(matmul(N, C, 4 * C));
        out.addAll(layernorm(N, C));
        out.addAll(gelu(N, 4 * C));
        out.addAll(residual(N, C));
        out.addAll(crossentropy(N, VOCAB));
        out.addAll(softmax(B * HEADS * T, T));
        out.addAll(attention(B, T, HEADS, C / HEADS));
        out.addAll(attention(1, 4096, HEADS, C / HEADS));
        out.addAll(sparseAttention(1, 4096, HEADS, C / HEADS, 64));
        out.addAll(sparseAttention(1, 16384, HEADS, C / HEADS, 128));
        out.add(adamw(124_439_808));
        return out;
    }

    static List<Case> matmul(int N, int Cin, int OC) {
        long nc = (long) N * Cin;
        long w = (long) OC * Cin;
        long no = (long) N * OC;
        return List.of(Case.kernel("matmul.forward", p("N", N, "C", Cin, "OC", OC), 2.0 * nc * OC, 4.0 * (nc + w + OC + no)),
                Case.kernel("matmul.backward", p("N", N, "C", Cin, "OC", OC), 4.0 * nc * OC + 1.0 * no,
                        4.0 * (no + nc + w + 2 * nc + 2 * w + 2 * OC)));
    }

    static List<Case> layernorm(int N, int Cn) {
        long nc = (long) N * Cn;
        return List.of(Case.kernel("layernorm.forward", p("N", N, "C", Cn), 0, 4.0 * (2 * nc + 2 * Cn + 2 * N)),
                Case.kernel("layernorm.backward", p("N", N, "C", Cn), 0, 4.0 * (4 * nc + 4 * Cn + 2 * N)));
    }

    static List<Case> gelu(int N, int Cn) {
        long n = (long) N * Cn;
        return List.of(Case.kernel("gelu.forward", p("N", N, "C", Cn), 0, 4.0 * 2 * n), Case.kernel("gelu.backward", p("N", N, "C", Cn), 0, 4.0 * 4 * n));
    }

    static List<Case> residual(int N, int Cn) {
        long n = (long) N * Cn;
        return List.of(Case.kernel("residual.forward", p("N", N, "C", Cn), 0, 4.0 * 3 * n),
                Case.kernel("residual.backward", p("N", N, "C", Cn), 0, 4.0 * 5 * n));
    }

    static List<Case> embedding(int B, int T, int Cn, int V) {
        long n = (long) B * T * Cn;
        return List.of(Case.kernel("embedding.forward", p("B", B, "T", T, "C", Cn, "V", V), 0, 4.0 * (3 * n + (long) B * T)),
                Case.kernel("embedding.backward", p("B", B, "T", T, "C", Cn, "V", V), 0, 4.0 * (5 * n + (long) B * T)));
    }

    static List<Case> crossentropy(int N, int V) {
        long n = (long) N * V;
        return List.of(Case.kernel("crossentropy.forward", p("N", N, "V", V), 0, 4.0 * (n + 3 * N)),
                Case.kernel("crossentropy.backward", p("N", N, "V", V), 0, 4.0 * (3 * n + 3 * N)));
    }

    static List<Case> softmax(int R, int T) {
        long n = (long) R * T;
        return List.of(Case.kernel("softmax.forward", p("R", R, "T", T), 0, 4.0 * 2 * n), Case.kernel("softmax.backward", p("R", R, "T", T), 0, 4.0 * 4 * n));
    }

    static List<Case> attention(int B, int T, int H, int d) {
        double pairs = (double) T * (T + 1) / 2 * H * B;
        long tc = (long) B * T * H * d;
        long scores = (long) B * H * T * T;
        return List.of(Case.kernel("attention.forward", p("B", B, "T", T, "H", H, "d", d), 4.0 * pairs * d, 4.0 * (4 * tc + scores)),
                Case.kernel("attention.backward", p("B", B, "T", T, "H", H, "d", d), 8.0 * pairs * d, 4.0 * (3 * tc + 2 * 3 * tc + 2 * scores)));
    }

    static List<Case> sparseAttention(int B, int T, int H, int d, int l) {
        double pairs = (double) Pattern.strided(l).pairs(T) * H * B;
        long tc = (long) B * T * H * d;
        long scores = (long) B * H * T * Pattern.strided(l).maxKeys(T);
        return List.of(Case.kernel("sparse_attention.forward", p("B", B, "T", T, "H", H, "d", d, "l", l), 4.0 * pairs * d, 4.0 * (4 * tc + scores)),
                Case.kernel("sparse_attention.backward", p("B", B, "T", T, "H", H, "d", d, "l", l), 8.0 * pairs * d,
                        4.0 * (3 * tc + 2 * 3 * tc + 2 * scores)));
    }

    static Case adamw(int n) {
        return Case.kernel("adamw.update", p("n", n), 0, 4.0 * 7 * n);
    }

    /** A case's launches on random inputs, and the arrays they read (to copy to the device once). */
    public record KernelRun(Case c, List<Launch> launches, Object[] inputs) {

        /** The case as a program: inputs copied in on the first run only, nothing out, so runs time the kernels alone. */
        public Program program() {
            Program p = new Program("bench_" + c.op());
            launches.forEach(p::add);
            return p.state(inputs);
        }
    }

    public static KernelRun build(Case c, long seed) {
        Random r = new Random(seed);
        Map<String, Integer> s = c.params();
        return switch (c.name()) {
            case "matmul.forward" -> {
                int N = s.get("N"), Cin = s.get("C"), OC = s.get("OC");
                FloatArray inp = Checks.random(r, N * Cin, 1f), w = Checks.random(r, OC * Cin, 1f), b = Checks.random(r, OC, 1f);
                yield new KernelRun(c, List.of(MatmulOps.forward(new FloatArray(N * OC), inp, w, b, N, Cin, OC)), new Object[] { inp, w, b });
            }
            case "matmul.backward" -> {
                int N = s.get("N"), Cin = s.get("C"), OC = s.get("OC");
                FloatArray dinp = Checks.random(r, N * Cin, 1f), dw = Checks.random(r, OC * Cin, 1f), db = Checks.random(r, OC, 1f);
                FloatArray dout = Checks.random(r, N * OC, 1f), inp = Checks.random(r, N * Cin, 1f), w = Checks.random(r, OC * Cin, 1f);
                yield new KernelRun(c, MatmulOps.backward(dinp, dw, db, dout, inp, w, N, Cin, OC), new Object[] { dinp, dw, db, dout, inp, w });
            }
            case "layernorm.forward" -> {
                int N = s.get("N"), Cn = s.get("C");
                FloatArray x = Checks.random(r, N * Cn, 1f), w = Checks.random(r, Cn, 1f), b = Checks.random(r, Cn, 1f);
                yield new KernelRun(c, List.of(LayerNormOps.forward(new FloatArray(N * Cn), new FloatArray(N), new FloatArray(N), x, w, b, N, Cn)),
                        new Object[] { x, w, b });
            }
            case "layernorm.backward" -> {
                int N = s.get("N"), Cn = s.get("C");
                FloatArray dx = Checks.random(r, N * Cn, 1f), dw = Checks.random(r, Cn, 1f), db = Checks.random(r, Cn, 1f), dy = Checks.random(r, N * Cn, 1f), x = Checks.random(r, N * Cn, 1f);
                FloatArray w = Checks.random(r, Cn, 1f), mean = Checks.random(r, N, 1f), rstd = positive(r, N);
                yield new KernelRun(c, LayerNormOps.backward(dx, dw, db, dy, x, w, mean, rstd, N, Cn), new Object[] { dx, dw, db, dy, x, w, mean, rstd });
            }
            case "gelu.forward" -> {
                int n = s.get("N") * s.get("C");
                FloatArray x = Checks.random(r, n, 1f);
                yield new KernelRun(c, List.of(GeluOps.forward(new FloatArray(n), x, n)), new Object[] { x });
            }
            case "gelu.backward" -> {
                int n = s.get("N") * s.get("C");
                FloatArray dx = Checks.random(r, n, 1f), dy = Checks.random(r, n, 1f), x = Checks.random(r, n, 1f);
                yield new KernelRun(c, List.of(GeluOps.backward(dx, dy, x, n)), new Object[] { dx, dy, x });
            }
            case "residual.forward" -> {
                int n = s.get("N") * s.get("C");
                FloatArray a = Checks.random(r, n, 1f), b = Checks.random(r, n, 1f);
                yield new KernelRun(c, List.of(ResidualOps.forward(new FloatArray(n), a, b, n)), new Object[] { a, b });
            }
            case "residual.backward" -> {
                int n = s.get("N") * s.get("C");
                FloatArray da = Checks.random(r, n, 1f), db = Checks.random(r, n, 1f), dy = Checks.random(r, n, 1f);
                yield new KernelRun(c, List.of(ResidualOps.backward(da, db, dy, n)), new Object[] { da, db, dy });
            }
            case "embedding.forward" -> {
                int B = s.get("B"), T = s.get("T"), Cn = s.get("C"), V = s.get("V");
                IntArray tokens = Checks.randomInts(r, B * T, V);
                FloatArray wte = Checks.random(r, V * Cn, 1f), wpe = Checks.random(r, T * Cn, 1f);
                yield new KernelRun(c, List.of(EmbeddingOps.forward(new FloatArray(B * T * Cn), tokens, wte, wpe, B, T, Cn, V)),
                        new Object[] { tokens, wte, wpe });
            }
            case "embedding.backward" -> {
                int B = s.get("B"), T = s.get("T"), Cn = s.get("C"), V = s.get("V");
                IntArray tokens = Checks.randomInts(r, B * T, V);
                FloatArray dwte = Checks.random(r, V * Cn, 1f), dwpe = Checks.random(r, T * Cn, 1f), dout = Checks.random(r, B * T * Cn, 1f);
                yield new KernelRun(c, EmbeddingOps.backward(dwte, dwpe, dout, tokens, B, T, Cn, V), new Object[] { dwte, dwpe, dout, tokens });
            }
            case "crossentropy.forward" -> {
                int N = s.get("N"), V = s.get("V");
                FloatArray logits = Checks.random(r, N * V, 1f);
                IntArray targets = Checks.randomInts(r, N, V);
                yield new KernelRun(c, List.of(CrossEntropyOps.forward(new FloatArray(N), new FloatArray(N), logits, targets, N, V)),
                        new Object[] { logits, targets });
            }
            case "crossentropy.backward" -> {
                int N = s.get("N"), V = s.get("V");
                FloatArray dlogits = Checks.random(r, N * V, 1f), logits = Checks.random(r, N * V, 1f), lse = Checks.random(r, N, 1f), dloss = Checks.random(r, N, 1f);
                IntArray targets = Checks.randomInts(r, N, V);
                yield new KernelRun(c, List.of(CrossEntropyOps.backward(dlogits, logits, lse, targets, dloss, N, V)),
                        new Object[] { dlogits, logits, lse, targets, dloss });
            }
            case "softmax.forward" -> {
                int R = s.get("R"), T = s.get("T");
                FloatArray x = Checks.random(r, R * T, 1f);
                yield new KernelRun(c, List.of(SoftmaxOps.forward(new FloatArray(R * T), x, 0.125f, R, T, true)), new Object[] { x });
            }
            case "softmax.backward" -> {
                int R = s.get("R"), T = s.get("T");
                FloatArray dx = Checks.random(r, R * T, 1f), dy = Checks.random(r, R * T, 1f), y = positive(r, R * T);
                yield new KernelRun(c, List.of(SoftmaxOps.backward(dx, dy, y, 0.125f, R, T, true)), new Object[] { dx, dy, y });
            }
            case "attention.forward" -> {
                int B = s.get("B"), T = s.get("T"), NH = s.get("H"), Cn = NH * s.get("d");
                FloatArray qkv = Checks.random(r, B * T * 3 * Cn, 1f);
                yield new KernelRun(c, List.of(AttentionOps.forward(new FloatArray(B * T * Cn), new FloatArray(B * NH * T * T), qkv, B, T, Cn, NH)),
                        new Object[] { qkv });
            }
            case "attention.backward" -> {
                int B = s.get("B"), T = s.get("T"), NH = s.get("H"), Cn = NH * s.get("d");
                FloatArray dqkv = Checks.random(r, B * T * 3 * Cn, 1f), dout = Checks.random(r, B * T * Cn, 1f), qkv = Checks.random(r, B * T * 3 * Cn, 1f);
                FloatArray att = positive(r, B * NH * T * T);
                yield new KernelRun(c, AttentionOps.backward(dqkv, new FloatArray(B * NH * T * T), dout, qkv, att, B, T, Cn, NH),
                        new Object[] { dqkv, dout, qkv, att });
            }
            case "sparse_attention.forward" -> {
                int B = s.get("B"), T = s.get("T"), NH = s.get("H"), Cn = NH * s.get("d");
                Pattern pattern = Pattern.strided(s.get("l"));
                FloatArray qkv = Checks.random(r, B * T * 3 * Cn, 1f);
                FloatArray att = new FloatArray(B * NH * T * pattern.maxKeys(T));
                yield new KernelRun(c, List.of(SparseAttentionOps.forward(new FloatArray(B * T * Cn), att, qkv, B, T, Cn, NH, pattern)),
                        new Object[] { qkv });
            }
            case "sparse_attention.backward" -> {
                int B = s.get("B"), T = s.get("T"), NH = s.get("H"), Cn = NH * s.get("d");
                Pattern pattern = Pattern.strided(s.get("l"));
                int attSize = B * NH * T * pattern.maxKeys(T);
                FloatArray dqkv = Checks.random(r, B * T * 3 * Cn, 1f), dout = Checks.random(r, B * T * Cn, 1f), qkv = Checks.random(r, B * T * 3 * Cn, 1f), att = positive(r, attSize);
                yield new KernelRun(c, SparseAttentionOps.backward(dqkv, new FloatArray(attSize), dout, qkv, att, B, T, Cn, NH, pattern),
                        new Object[] { dqkv, dout, qkv, att });
            }
            case "adamw.update" -> {
                int n = s.get("n");
                FloatArray params = Checks.random(r, n, 1f), grads = Checks.random(r, n, 1f), m = Checks.random(r, n, 1f), v = positive(r, n);
                FloatArray hyper = new FloatArray(AdamW.HYPER_SIZE);
                AdamWOps.hyperparameters(hyper, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 10);
                FloatArray clip = new FloatArray(1);
                clip.set(0, 1f);
                yield new KernelRun(c, List.of(AdamWOps.update(params, grads, m, v, hyper, clip, n)), new Object[] { params, grads, m, v, hyper, clip });
            }
            default -> throw new UserError("no kernel case '" + c.name() + "'");
        };
    }

    /** The cases of the named ops ("matmul", "softmax.forward"); all if ops is empty. */
    public static List<Case> select(List<Case> cases, List<String> ops) {
        if (ops.isEmpty()) {
            return cases;
        }
        List<Case> out = cases.stream().filter(c -> ops.contains(c.op()) || ops.contains(c.name())).toList();
        if (out.isEmpty()) {
            throw new UserError("no kernel case matches " + ops + "; ops: "
                    + cases.stream().map(Case::op).distinct().toList());
        }
        return out;
    }

    /** A case's params from key, value, key, value, ... in that order. */
    static Map<String, Integer> p(Object... keyValues) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], (Integer) keyValues[i + 1]);
        }
        return m;
    }

    /** Uniform in (0, 1]: probabilities and reciprocal deviations. */
    static FloatArray positive(Random r, int n) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, 1f - r.nextFloat());
        }
        return a;
    }
}
