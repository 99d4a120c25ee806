package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.gpt.data.Batches;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The gradient exchange overlapped with the backward pass (mpirun's runs, which check the results against one
 * process, are app's DataParallelTest): a layer is handed over only once the backward has finished its gradients,
 * the ranges cover the slab once, and every step sends them in the same order from the exchange's thread.
 */
class GradientExchangeTest {

    static GptConfig config(String style) {
        return new GptConfig(GptConfig.Style.valueOf(style), 13, 16, 3, 2, 16, 0.1f, 0);
    }

    /** Every element of the slab in exactly one range: a layer's tensors in that layer's, the embeddings' and ln_f's in the rest. */
    @ParameterizedTest
    @ValueSource(strings = { "GPT1", "GPT2" })
    void theLayersRangesAndTheRestCoverTheSlabOnce(String style) {
        Parameters g = new Parameters(config(style));
        long[][] layers = GradientExchange.layerRanges(g);
        long[] rest = GradientExchange.complement(layers, g.all().getSize());
        int[] owner = new int[g.all().getSize()];
        java.util.Arrays.fill(owner, -2);
        for (int l = 0; l <= layers.length; l++) {
            long[] ranges = l < layers.length ? layers[l] : rest;
            assertEquals(0, ranges.length % 2);
            for (int i = 0; i < ranges.length; i += 2) {
                for (long e = ranges[i]; e < ranges[i + 1]; e++) {
                    assertEquals(-2, owner[(int) e], "element " + e + " in two ranges");
                    owner[(int) e] = l < layers.length ? l : -1;
                }
            }
        }
        for (int e = 0; e < owner.length; e++) {
            assertTrue(owner[e] != -2, "element " + e + " in no range");
        }
        for (Parameters.Tensor t : g.tensors()) {
            int expected = t.name().startsWith("transformer.h.") ? Integer.parseInt(t.name().split("\\.")[2]) : -1;
            int from = Slab.offsetOf(t.data());
            for (int e = from; e < from + t.size(); e++) {
                assertEquals(expected, owner[e], t.name());
            }
        }
        // a layer's matrices and its vectors: two ranges, not one per tensor
        assertEquals(4, layers[0].length);
    }

    /** Where the backward hands layer l over, its gradients already hold their final values (dropout on, both styles). */
    @ParameterizedTest
    @ValueSource(strings = { "GPT1", "GPT2" })
    void aLayerIsHandedOverWhenItsGradientsAreFinal(String style) {
        GptConfig c = config(style);
        Parameters p = new Parameters(c);
        p.initialise(7);
        Gpt model = new Gpt(c, p);
        Parameters grads = new Parameters(c);
        Gpt.Activations a = model.activations(2, 8);
        Random r = new Random(1);
        for (int i = 0; i < a.N; i++) {
            a.tokens.set(i, r.nextInt(c.vocabSize()));
            a.targets.set(i, r.nextInt(c.vocabSize()));
        }
        a.dlosses.init(1f / a.N);
        a.seed.set(0, 42);
        long[][] layers = GradientExchange.layerRanges(grads);
        float[][] handed = new float[c.layers()][];
        List<Object> state = new ArrayList<>(List.of(p.all(), grads.all()));
        state.addAll(a.buffers());
        Program step = new Program("step").state(state.toArray()).inputs(a.tokens, a.targets, a.dlosses, a.seed).outputs(a.losses);
        model.forward(a, true).forEach(step::add);
        model.backward(a, grads, List.of(), l -> Launch.host("layer_" + l + ".snapshot", () -> handed[l] = copy(grads.all(), layers[l])))
                .forEach(step::add);
        try (Session s = new JvmBackend(2).open(step)) {
            s.run(step);
        }
        for (int l = 0; l < c.layers(); l++) {
            float[] end = copy(grads.all(), layers[l]);
            assertArrayEquals(end, handed[l], "layer " + l);
            float max = 0;
            for (float x : end) {
                max = Math.max(max, Math.abs(x));
            }
            assertTrue(max > 0, "layer " + l + " has gradients");
        }
    }

    /**
     * A trainer of 2 ranks on the JVM backend, 2 micro-batches a step: nothing goes during the first micro-batch; in
     * the last the layers go from the exchange's thread, the last layer first, then the rest; each step's ranges
     * cover the slab once (under ZeRO-1 the shards' parts of each range, which cover the shards once).
     */
    @ParameterizedTest
    @ValueSource(ints = { 0, 1 })
    void eachStepSendsTheLayersFromTheLastThenTheRest(int zero) {
        GptConfig c = config("GPT2");
        Parameters p = new Parameters(c);
        p.initialise(5);
        Recorder world = new Recorder();
        Trainer.Options o = Trainer.Options.defaults().batch(2).context(8).steps(2).accumulation(2).zero(zero).world(world).overlap(true);
        long[][] layers = GradientExchange.layerRanges(p);
        long[] rest = GradientExchange.complement(layers, p.all().getSize());
        try (Trainer t = new Trainer(new Gpt(c, p), new JvmBackend(2), o)) {
            Batches b = new Batches(new Random(2).ints(500, 0, c.vocabSize()).toArray(), 2, 8, 9);
            for (int step = 0; step < 2; step++) {
                world.calls.clear();
                t.trainStep(b::next);
                List<long[]> expected = new ArrayList<>();
                for (int l = c.layers() - 1; l >= 0; l--) {
                    expected.add(layers[l]);
                }
                expected.add(rest);
                // the two micro-batches' target counts, the gradients, (ZeRO-1: the norm's squares), the losses
                List<String> want = new ArrayList<>(List.of("values", "values"));
                for (long[] ranges : expected) {
                    for (int k = 0; k < ranges.length; k += 2) {
                        want.add("gradients " + ranges[k] + ".." + ranges[k + 1] + " on tgpt-gradient-exchange");
                    }
                }
                want.addAll(zero == 1 ? List.of("values", "values") : List.of("values"));
                assertEquals(want, world.calls);
                if (zero == 1) {
                    // each shard's parts, over the step's calls, tile the shard
                    long[] starts = world.shards(0, p.all().getSize());
                    for (int rank = 0; rank < 2; rank++) {
                        List<long[]> parts = new ArrayList<>();
                        for (long[] s : world.scattered) {
                            parts.add(new long[] { s[rank], s[rank + 1] });
                        }
                        parts.sort((x, y) -> Long.compare(x[0], y[0]));
                        long at = starts[rank];
                        for (long[] part : parts) {
                            if (part[1] > part[0]) {
                                assertEquals(at, part[0]);
                                at = part[1];
                            }
                        }
                        assertEquals(starts[rank + 1], at);
                    }
                    world.scattered.clear();
                }
            }
        }
    }

    private static float[] copy(FloatArray a, long[] ranges) {
        List<Float> out = new ArrayList<>();
        for (int i = 0; i < ranges.length; i += 2) {
            for (long e = ranges[i]; e < ranges[i + 1]; e++) {
                out.add(a.get((int) e));
            }
        }
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = out.get(i);
        }
        return f;
    }

    /** Rank 1 of 2 whose twin sends the same: records the gradient ranges it is given and from which thread. */
    static final class Recorder implements Collective {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final List<long[]> scattered = Collections.synchronizedList(new ArrayList<>());

        @Override
        public int rank() {
            return 1;
        }

        @Override
        public int size() {
            return 2;
        }

        @Override
        public void allReduceSum(FloatArray a, long from, long count) {
            if (a.getSize() > 1000) {
                calls.add("gradients " + from + ".." + (from + count) + " on " + Thread.currentThread().getName());
            }
            for (long i = from; i < from + count; i++) {
                a.set((int) i, a.get((int) i) * 2);
            }
        }

        @Override
        public void allReduceSum(double[] values) {
            calls.add("values");
            for (int i = 0; i < values.length; i++) {
                values[i] *= 2;
            }
        }

        @Override
        public void broadcast(FloatArray a, long from, long count, int root) {
        }

        @Override
        public void broadcast(byte[] bytes, int root) {
        }

        @Override
        public void reduceScatterSum(FloatArray a, long[] starts) {
            calls.add("gradients " + starts[0] + ".." + starts[2] + " on " + Thread.currentThread().getName());
            scattered.add(starts.clone());
        }

        @Override
        public void allGather(FloatArray a, long[] starts) {
        }

        @Override
        public void close() {
        }
    }
}
