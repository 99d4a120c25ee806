package dev.tgpt.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

import dev.tgpt.kernels.MatmulVector;
import jdk.incubator.vector.FloatVector;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The pure-JVM backend, the default when no TornadoVM GPU is present: kernels' row helpers and Vector API twins
 * run on a team of one thread per core (the caller's and spinning workers, see {@link ThreadTeam}).
 */
public final class JvmBackend implements Backend, MatmulVector.Pool {

    /** One team per thread count, shared by every backend of that size. */
    private static final Map<Integer, ThreadTeam> TEAMS = new ConcurrentHashMap<>();

    private final ThreadTeam team;

    public JvmBackend(int threads) {
        if (threads < 1) {
            throw new UserError("the JVM backend needs at least 1 thread, not " + threads);
        }
        team = TEAMS.computeIfAbsent(threads, ThreadTeam::new);
    }

    public JvmBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public int threads() {
        return team.size();
    }

    @Override
    public DeviceInfo info() {
        return new DeviceInfo("jvm", "jvm", "JVM backend (" + System.getProperty("java.vm.name") + " " + Runtime.version() + ", "
                + System.getProperty("os.arch") + ")", "CPU", maxTensorMemory(), 4L * Integer.MAX_VALUE, threads(),
                FloatVector.SPECIES_PREFERRED.length());
    }

    /**
     * What the tensors may take: they live off the heap, in memory the JVM caps at -XX:MaxDirectMemorySize (./tgpt sets
     * it from the machine's RAM; the JVM's default is the heap's maximum).
     */
    public static long maxTensorMemory() {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        long direct = Long.parseLong(vm.getVMOption("MaxDirectMemorySize").getValue());
        return direct > 0 ? direct : Runtime.getRuntime().maxMemory();
    }

    @Override
    public Session open(Program... programs) {
        return new Session() {
            private Profile profile = Profile.NONE;

            @Override
            public void run(Program program) {
                long t0 = System.nanoTime();
                // The calling thread runs the launches and takes its share of each one's chunks.
                for (Launch l : program.launches) {
                    l.jvm().accept(JvmBackend.this);
                }
                long t = System.nanoTime() - t0;
                profile = new Profile(t, 0, t, 0);
            }

            @Override
            public void read(Object... arrays) {
                // host and device memory are one here
            }

            @Override
            public void read(FloatArray array, long from, long to) {
                // the same: nothing to copy
            }

            @Override
            public Profile profile() {
                return profile;
            }

            @Override
            public void close() {
            }
        };
    }

    /** A contiguous part [from, to) of a parallel loop. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * Runs body over [0, n) in contiguous chunks across the team's threads. Element-wise launches loop inside the body,
     * where the JIT inlines (and can vectorise) the kernel's helper; one call per element would not inline.
     */
    public void parallelRange(int n, Range body) {
        split(n, body, SERIAL);
    }

    /** Below this many elements an element-wise loop runs on the calling thread: handing it to the team costs more. */
    private static final int SERIAL = 4096;

    private void split(int n, Range body, int serialBelow) {
        if (n <= 0) {
            return;
        }
        // A few items (heads, matmul units) go one per chunk: in chunks of 1 or 2, whichever thread took a last 2
        // finished late (causal attention over 12 heads ran 10-15% slower than in 12 chunks).
        int chunks = n <= threads() * 8 ? n : threads() * 4;
        if (chunks == 1 || n < serialBelow) {
            body.run(0, n);
            return;
        }
        team.run(n, chunks, body);
    }

    /** Runs body(i) for i in [0, n) (a row, a head, a column: work worth a call each) across the team's threads. */
    @Override
    public void parallelFor(int n, IntConsumer body) {
        split(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                body.accept(i);
            }
        }, 2);
    }
}
