package dev.tgpt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.tgpt.engine.UserError;

/**
 * OpenBLAS's cblas_sgemm through the FFM API (a downcall, no JNI), on the same off-heap memory as our arrays. The
 * library is the one named by -Dtgpt.openblas or $TGPT_OPENBLAS, else the first of the usual Linux paths.
 */
final class OpenBlas {

    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final List<String> CANDIDATES = List.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0", "/usr/lib64/libopenblas.so.0", "/usr/lib/libopenblas.so.0",
            "/usr/local/lib/libopenblas.so.0", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib");

    final Path path;
    private final MethodHandle sgemm;
    private final MethodHandle setThreads;
    private final MethodHandle getThreads;
    private final MethodHandle config;

    private OpenBlas(Path path) {
        this.path = path;
        SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
        Linker linker = Linker.nativeLinker();
        sgemm = linker.downcallHandle(find(lib, "cblas_sgemm"), FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT));
        setThreads = linker.downcallHandle(find(lib, "openblas_set_num_threads"), FunctionDescriptor.ofVoid(JAVA_INT));
        getThreads = linker.downcallHandle(find(lib, "openblas_get_num_threads"), FunctionDescriptor.of(JAVA_INT));
        config = linker.downcallHandle(find(lib, "openblas_get_config"), FunctionDescriptor.of(ADDRESS));
    }

    static OpenBlas load() {
        String named = System.getProperty("tgpt.openblas", System.getenv("TGPT_OPENBLAS"));
        if (named != null && !named.isBlank()) {
            Path p = Path.of(named);
            if (!Files.isRegularFile(p)) {
                throw new UserError("OpenBLAS library " + p + " (from -Dtgpt.openblas or TGPT_OPENBLAS) does not exist");
            }
            return new OpenBlas(p);
        }
        for (String c : CANDIDATES) {
            Path p = Path.of(c);
            if (Files.isRegularFile(p)) {
                return new OpenBlas(p);
            }
        }
        throw new UserError("OpenBLAS not found (looked in " + String.join(", ", CANDIDATES) + "): install it (Debian/Ubuntu: "
                + "apt-get install libopenblas0-pthread) or name the library with -Dtgpt.openblas=/path/to/libopenblas.so.0");
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new UserError("the OpenBLAS library has no symbol " + name));
    }

    void threads(int n) {
        try {
            setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int threads() {
        try {
            return (int) getThreads.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Build options and the CPU kernel OpenBLAS picked, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
    String config() {
        try {
            return ((MemorySegment) config.invokeExact()).reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Row-major C[M,N] = op(A)·op(B) + beta·C, op transposing when asked. */
    void sgemm(boolean transA, boolean transB, int M, int N, int K, MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
            MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, 1f, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
