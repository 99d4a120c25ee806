package dev.tgpt.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.tgpt.engine.Devices;
import dev.tgpt.engine.Program;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.UserError;

/**
 * JMH over every kernel case ({@link KernelCases}) on any backend: one benchmark run is one {@code session.run} of the
 * case's program, whose inputs were copied to the device on the first run, so the figure is the kernels' time (plus,
 * on TornadoVM, the launch overhead of a task graph).
 *
 * <p>kase is "name K=V ...", the case name and its shape as {@link Case#shape()} writes it; the defaults are the
 * cases of {@code KernelCases.all(true)} (a test keeps them equal), and any other shape can be given with {@code -p}.
 * device is "jvm" or a TornadoVM device "N:M" (SDK mode), as {@code --device} takes it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// Forks inherit the launching JVM's options (in SDK mode TornadoVM's argfile); the Vector API module and native access
// are added here so that a fork works even if the launcher did not need them.
@Fork(value = 1, jvmArgsAppend = { "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED" })
// TornadoVM compiles each kernel on the first run: the first warm-up iteration takes it
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelJmh {

    @Param({
            "matmul.forward N=64 C=768 OC=3072",
            "matmul.backward N=64 C=768 OC=3072",
            "matmul.forward N=256 C=768 OC=3072",
            "matmul.backward N=256 C=768 OC=3072",
            "layernorm.forward N=64 C=768",
            "layernorm.backward N=64 C=768",
            "layernorm.forward N=256 C=768",
            "layernorm.backward N=256 C=768",
            "gelu.forward N=64 C=3072",
            "gelu.backward N=64 C=3072",
            "gelu.forward N=256 C=3072",
            "gelu.backward N=256 C=3072",
            "residual.forward N=64 C=768",
            "residual.backward N=64 C=768",
            "residual.forward N=256 C=768",
            "residual.backward N=256 C=768",
            "embedding.forward B=1 T=64 C=768 V=50257",
            "embedding.backward B=1 T=64 C=768 V=50257",
            "embedding.forward B=1 T=256 C=768 V=50257",
            "embedding.backward B=1 T=256 C=768 V=50257",
            "crossentropy.forward N=64 V=50257",
            "crossentropy.backward N=64 V=50257",
            "crossentropy.forward N=256 V=50257",
            "crossentropy.backward N=256 V=50257",
            "softmax.forward R=1536 T=128",
            "softmax.backward R=1536 T=128",
            "softmax.forward R=3072 T=256",
            "softmax.backward R=3072 T=256",
            "attention.forward B=1 T=128 H=12 d=64",
            "attention.backward B=1 T=128 H=12 d=64",
            "attention.forward B=1 T=256 H=12 d=64",
            "attention.backward B=1 T=256 H=12 d=64",
            "sparse_attention.forward B=1 T=256 H=12 d=64 l=64",
            "sparse_attention.backward B=1 T=256 H=12 d=64 l=64",
            "sparse_attention.forward B=1 T=1024 H=12 d=64 l=64",
            "sparse_attention.backward B=1 T=1024 H=12 d=64 l=64",
            "adamw.update n=196608",
            "adamw.update n=786432" })
    public String kase;

    @Param("jvm")
    public String device;

    private Program program;
    private Session session;

    @Setup
    public void open() {
        program = KernelCases.build(parse(kase), 1).program();
        session = Devices.select(device).open(program);
    }

    @Benchmark
    public void run() {
        session.run(program);
    }

    @TearDown
    public void close() {
        session.close();
    }

    /** "matmul.forward N=64 C=768 OC=3072". */
    static String label(Case c) {
        return c.name() + " " + c.shape();
    }

    /** The kernel case of a label; flops and bytes are not needed here. */
    static Case parse(String label) {
        String[] words = label.trim().split("\\s+");
        Map<String, Integer> params = new LinkedHashMap<>();
        for (int i = 1; i < words.length; i++) {
            String[] kv = words[i].split("=", 2);
            try {
                params.put(kv[0], Integer.valueOf(kv[1]));
            } catch (RuntimeException e) {
                throw new UserError("a kernel case is 'name K=V ...', e.g. 'matmul.forward N=64 C=768 OC=3072', not '" + label + "'");
            }
        }
        return Case.kernel(words[0], params, 0, 0);
    }
}
