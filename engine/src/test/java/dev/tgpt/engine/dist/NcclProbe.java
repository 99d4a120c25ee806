package dev.tgpt.engine.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Devices;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Run under mpirun by {@link NcclTest}, on tornado-jvm's emulated CUDA device with the NCCL and CUDA doubles
 * ({@link FakeGpu}). Mode {@code sum}: a program whose launch sums an array over the ranks through the library task;
 * rank r's element i is i + 1000·r (with FAKE_NCCL_SCALE=k on one rank: the sum of k equal ranks). Mode {@code shards}:
 * ZeRO-1's reduce-scatter of that array, then an all-gather of shards each rank set alone. Prints OK lines; exits 1 on
 * a wrong result. Mode {@code hang}: rank 0 sums while the others sleep.
 */
public final class NcclProbe {

    private NcclProbe() {
    }

    public static void main(String[] args) throws Throwable {
        Collective world = Ranks.fromEnvironment();
        Backend device = Devices.select("0:0");
        NcclCollective nccl = NcclCollective.open(world, device, NcclCollective.Mode.nccl);
        int n = 100_003;
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, i + 1000 * world.rank());
        }
        int ranks = world.size() > 1 ? world.size() : Integer.parseInt(System.getenv().getOrDefault("FAKE_NCCL_SCALE", "1"));
        String did;
        if (args[0].equals("shards")) {
            // ZeRO-1's pair: this rank's shard of a summed; then b, where each rank set its own shard alone, gathered
            long[] shards = world.shards(0, n);
            FloatArray b = new FloatArray(n);
            for (int i = 0; i < n; i++) {
                b.set(i, owner(shards, i) == world.rank() ? i + 1000 * world.rank() : -1);
            }
            Program scatter = new Program("scatter").state(a).add(nccl.sumRanges("reduceScatter", a, new long[] { 0, n }, true, false));
            Program gather = new Program("gather").state(b).add(nccl.allGather("allGather", b));
            try (Session s = device.open(scatter, gather)) {
                s.run(scatter);
                s.run(gather);
                s.read(a, b);
            }
            for (int i = (int) shards[world.rank()]; i < shards[world.rank() + 1]; i++) {
                expect(a, i, summed(world, ranks, i));
            }
            for (int i = 0; i < n; i++) {
                expect(b, i, i + 1000 * owner(shards, i));
            }
            did = "reduce-scatter and all-gather";
        } else {
            Program sum = new Program("sum").state(a).add(nccl.allReduceSum("allReduce", a));
            try (Session s = device.open(sum)) {
                if (args[0].equals("hang") && world.rank() != 0) {
                    Thread.sleep(Long.MAX_VALUE);
                }
                s.run(sum);
                s.read(a);
            }
            for (int i = 0; i < n; i++) {
                expect(a, i, summed(world, ranks, i));
            }
            did = "sum";
        }
        nccl.settled();
        SymbolLookup cuda = SymbolLookup.libraryLookup(System.getProperty("tgpt.cudaLibrary"), Arena.global());
        long copies = (long) Linker.nativeLinker().downcallHandle(cuda.find("fake_cuda_copies").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG)).invokeExact();
        System.out.println("rank " + world.rank() + ": OK " + nccl.describe() + ", " + did + " of " + ranks + ", " + copies + " staged copies");
        nccl.close();
        world.close();
    }

    /** Element i summed over the ranks (one rank with FAKE_NCCL_SCALE=k: as k equal ranks would sum). */
    private static float summed(Collective world, int ranks, int i) {
        return world.size() > 1 ? ranks * i + 1000f * ranks * (ranks - 1) / 2 : ranks * (float) i;
    }

    private static int owner(long[] shards, int i) {
        int r = 0;
        while (i >= shards[r + 1]) {
            r++;
        }
        return r;
    }

    private static void expect(FloatArray a, int i, float expected) {
        if (a.get(i) != expected) {
            System.out.println("element " + i + " is " + a.get(i) + ", not " + expected);
            System.exit(1);
        }
    }
}
