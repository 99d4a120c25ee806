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
 * rank r's element i is i + 1000·r (with FAKE_NCCL_SCALE=k on one rank: the sum of k equal ranks). Prints OK lines;
 * exits 1 on a wrong result. Mode {@code hang}: rank 0 sums while the others sleep.
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
        Program sum = new Program("sum").state(a).add(nccl.allReduceSum("allReduce", a));
        try (Session s = device.open(sum)) {
            if (args[0].equals("hang") && world.rank() != 0) {
                Thread.sleep(Long.MAX_VALUE);
            }
            s.run(sum);
            s.read(a);
        }
        nccl.settled();
        int ranks = world.size() > 1 ? world.size() : Integer.parseInt(System.getenv().getOrDefault("FAKE_NCCL_SCALE", "1"));
        for (int i = 0; i < n; i++) {
            float expected = world.size() > 1 ? ranks * i + 1000f * ranks * (ranks - 1) / 2 : ranks * (float) i;
            if (a.get(i) != expected) {
                System.out.println("rank " + world.rank() + ": element " + i + " is " + a.get(i) + ", not " + expected);
                System.exit(1);
            }
        }
        SymbolLookup cuda = SymbolLookup.libraryLookup(System.getProperty("tgpt.cudaLibrary"), Arena.global());
        long copies = (long) Linker.nativeLinker().downcallHandle(cuda.find("fake_cuda_copies").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG)).invokeExact();
        System.out.println("rank " + world.rank() + ": OK " + nccl.describe() + ", sum of " + ranks + ", " + copies + " staged copies");
        nccl.close();
        world.close();
    }
}
