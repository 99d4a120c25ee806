package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.ops.QuantMatmulOps;
import dev.tgpt.kernels.QuantMatmulReference;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Decoding with packed weights computes what fp32 decoding computes with the weights the packing stands for: the
 * model with each block's four matrices replaced by their packed values (read back by {@link QuantMatmulReference})
 * gives, in fp32, the final layer norm's output, and that times wte's packed values (in double) gives the logits the
 * packed model must give. Each of the 4·L + 1 matrices is read from its own place, so a matrix taken from another's
 * offset would move the logits far beyond the tolerance: 1e-4 + 1e-4 relative, float sums in another order.
 */
class PackedDecodingTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void packedDecodingIsFp32DecodingOfThePackedValues(Backend backend) {
        for (QuantMatmulOps.Format f : List.of(QuantMatmulOps.Format.BF16, QuantMatmulOps.Format.INT8)) {
            GptConfig c = new GptConfig(GptConfig.Style.GPT2, 11, 12, 2, 2, 32, 0f, 0);
            Parameters p = new Parameters(c);
            p.initialise(4);
            Gpt packed = new Gpt(c, p).decodingWith(f);
            // the reference: the same parameters, the blocks' matrices replaced by their packed values
            Parameters q = new Parameters(c);
            for (int i = 0; i < p.tensors().size(); i++) {
                FloatArray from = p.tensors().get(i).data();
                FloatArray to = q.tensors().get(i).data();
                for (int j = 0; j < from.getSize(); j++) {
                    to.set(j, from.get(j));
                }
            }
            int C = c.channels();
            List<FloatArray> matrices = new ArrayList<>();
            List<int[]> shapes = new ArrayList<>();
            for (Parameters.Layer l : q.layers) {
                matrices.addAll(List.of(l.qkvw(), l.attprojw(), l.fcw(), l.fcprojw()));
                shapes.addAll(List.of(new int[] { 3 * C, C }, new int[] { C, C }, new int[] { 4 * C, C }, new int[] { C, 4 * C }));
            }
            for (int m = 0; m < matrices.size(); m++) {
                double[] back = unpack(f, matrices.get(m), shapes.get(m)[0], shapes.get(m)[1]);
                for (int j = 0; j < back.length; j++) {
                    matrices.get(m).set(j, (float) back[j]);
                }
            }
            double[] head = unpack(f, p.wte, c.vocabSize(), C);
            Gpt reference = new Gpt(c, q);

            int[] tokens = { 3, 1, 4, 1, 5, 9, 2, 6 };
            try (Stepper got = new Stepper(packed, backend); Stepper want = new Stepper(reference, backend)) {
                for (int t = 0; t < tokens.length; t++) {
                    got.step(tokens[t], t);
                    want.step(tokens[t], t);
                    for (int v = 0; v < c.vocabSize(); v++) {
                        double logit = 0;
                        for (int k = 0; k < C; k++) {
                            logit += want.act.lnf.get(k) * head[v * C + k];
                        }
                        assertEquals(logit, got.act.logits.get(v), 1e-4 + 1e-4 * Math.abs(logit), f + " position " + t + " token " + v);
                    }
                }
            }
        }
    }

    static double[] unpack(QuantMatmulOps.Format f, FloatArray w, int OC, int C) {
        QuantMatmulOps.Matrix m = QuantMatmulOps.pack(f, List.of(w), new int[] { OC }, new int[] { C }).getFirst();
        return f == QuantMatmulOps.Format.BF16 ? QuantMatmulReference.bf16Weight(m.data().toHeapArray(), OC, C)
                : QuantMatmulReference.int8Weight(m.data().toHeapArray(), m.scales().toHeapArray(), OC, C);
    }

    /** One sequence decoded a position at a time. */
    static final class Stepper implements AutoCloseable {
        final Gpt.Activations act;
        final Program step;
        final Session session;

        Stepper(Gpt gpt, Backend backend) {
            act = gpt.decoder(1);
            List<Object> state = new ArrayList<>(gpt.weightArrays());
            state.addAll(act.buffers());
            step = new Program("step").state(state.toArray()).inputs(act.tokens, act.pos).outputs(act.logits, act.lnf);
            gpt.forward(act, false).forEach(step::add);
            session = backend.open(step);
        }

        void step(int token, int pos) {
            act.tokens.set(0, token);
            act.pos.set(0, pos);
            session.run(step);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
