package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Collective;
import dev.tgpt.gpt.data.Batches;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The Trainer's data-parallel paths in one process (mpirun's runs are app's DataParallelTest): ZeRO-1's update (the
 * moments of a shard, the slab's regions cut where a shard ends, the norm summed on the host) against the plain one,
 * and a rank whose weights differ caught by the checksum.
 */
class DataParallelTrainerTest {

    static final GptConfig CONFIG = new GptConfig(GptConfig.Style.GPT2, 13, 16, 2, 2, 16, 0f, 0);

    static Gpt model() {
        Parameters p = new Parameters(CONFIG);
        p.initialise(5);
        return new Gpt(CONFIG, p);
    }

    static Trainer.Options options() {
        // no clipping: the plain update's norm is summed on the device in float, ZeRO's on the host in double
        return Trainer.Options.defaults().batch(3).context(8).steps(5).lr(3e-3f).warmup(1).gradClip(0f).seed(4);
    }

    static int[] tokens() {
        return new Random(2).ints(2000, 0, CONFIG.vocabSize()).toArray();
    }

    static float[] train(Trainer.Options o, float[] losses) {
        Gpt m = model();
        try (Trainer t = new Trainer(m, new JvmBackend(1), o)) {
            Batches b = new Batches(tokens(), o.batch(), o.context(), 9);
            for (int i = 0; i < losses.length; i++) {
                losses[i] = t.trainStep(b::next);
            }
            t.sync();
        }
        FloatArray all = m.params.all();
        float[] w = new float[all.getSize()];
        for (int i = 0; i < w.length; i++) {
            w[i] = all.get(i);
        }
        return w;
    }

    @Test
    void zeroOneInOneProcessIsThePlainUpdateBitForBit() {
        float[] plainLosses = new float[5];
        float[] zeroLosses = new float[5];
        float[] plain = train(options(), plainLosses);
        float[] zero = train(options().zero(1), zeroLosses);
        assertArrayEquals(plainLosses, zeroLosses);
        assertArrayEquals(plain, zero);
    }

    /** Three shards of one process's slab, as a 3-rank run would cut it: every element in exactly one. */
    @Test
    void shardsCoverTheSlabOnce() {
        Collective three = new FakeWorld(3, false);
        long[] s = three.shards(16, 100);
        assertEquals(16, s[0]);
        assertEquals(116, s[3]);
        assertTrue(s[1] - s[0] >= s[2] - s[1] && s[2] - s[1] >= s[3] - s[2] && s[1] - s[0] - (s[3] - s[2]) <= 1);
    }

    @Test
    void aRankWhoseWeightsDifferIsAnError() {
        Trainer.Options o = options().world(new FakeWorld(2, true)).checksumEvery(2);
        try (Trainer t = new Trainer(model(), new JvmBackend(1), o)) {
            Batches b = new Batches(tokens(), o.batch(), o.context(), 9);
            t.trainStep(b::next);
            UserError e = assertThrows(UserError.class, () -> t.trainStep(b::next));
            assertTrue(e.getMessage().startsWith("after step 2 the weights of 2 of the 2 ranks differ from rank 0's"), e.getMessage());
        }
    }

    /** Rank 1 of a world whose other ranks are this one's twins (sums multiply); with {@code drifted} rank 0's weights hash differently. */
    record FakeWorld(int size, boolean drifted) implements Collective {
        @Override
        public int rank() {
            return 1;
        }

        @Override
        public void allReduceSum(FloatArray a, long from, long count) {
            for (long i = from; i < from + count; i++) {
                a.set((int) i, a.get((int) i) * size);
            }
        }

        @Override
        public void allReduceSum(double[] values) {
            for (int i = 0; i < values.length; i++) {
                values[i] *= size;
            }
        }

        @Override
        public void broadcast(FloatArray a, long from, long count, int root) {
        }

        @Override
        public void broadcast(byte[] bytes, int root) {
            if (drifted) {
                bytes[0] ^= 1;
            }
        }

        @Override
        public void reduceScatterSum(FloatArray a, long[] starts) {
        }

        @Override
        public void allGather(FloatArray a, long[] starts) {
        }

        @Override
        public void close() {
        }
    }
}
