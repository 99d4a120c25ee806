package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.tgpttest.TornadoBailoutRuntimeException;
import uk.ac.manchester.tornado.tgpttest.TornadoDeviceFP64NotSupported;
import uk.ac.manchester.tornado.tgpttest.TornadoInternalError;
import uk.ac.manchester.tornado.tgpttest.TornadoMemoryException;
import uk.ac.manchester.tornado.tgpttest.TornadoOutOfMemoryException;

/**
 * What the launcher says when a command fails: a device's limit or the host's memory is one line naming it, exit
 * code 2; an internal error is one line naming a log file that holds the stack trace, exit code 1; --debug prints the
 * trace. The failures are thrown by a command added for the test, on device 0:0 (JVM mode: tornado-jvm's emulator).
 */
class FailuresTest {

    /** Selects its --device as every command does, then throws what it was given. */
    @Command(name = "fail")
    static final class FailCommand implements Callable<Integer> {

        private final Supplier<Throwable> failure;

        @Mixin
        DeviceOption device;

        @Option(names = "--out")
        Path out;

        FailCommand(Supplier<Throwable> failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            device.backend();
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (Exception) t;
        }
    }

    static TgptTest.Run fail(Supplier<Throwable> failure, String... args) {
        CommandLine cl = Tgpt.commandLine();
        cl.addSubcommand("fail", new FailCommand(failure));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String previous = System.setProperty("tgpt.allowEmulator", "true");
        try {
            return new TgptTest.Run(cl.execute(args), out.toString(), err.toString());
        } finally {
            restore(previous);
        }
    }

    private static void restore(String previous) {
        if (previous == null) {
            System.clearProperty("tgpt.allowEmulator");
        } else {
            System.setProperty("tgpt.allowEmulator", previous);
        }
    }

    /** Exit code 2 and one line on stderr, "tgpt: device 0:0 [its name] ...", containing every expected text; no trace. */
    static String deviceError(Supplier<Throwable> failure, String... expected) {
        TgptTest.Run r = fail(failure, "fail", "--device", "0:0");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        String line = r.err().strip();
        assertTrue(line.startsWith("tgpt: device 0:0 ["), line);
        for (String e : expected) {
            assertTrue(line.contains(e), "'" + e + "' not in: " + line);
        }
        assertFalse(line.contains("\tat ") || line.contains("Caused by"), line);
        return line;
    }

    @Test
    void aModelTooLargeForTheDeviceIsOneLine() {
        deviceError(() -> new TornadoOutOfMemoryException("Unable to allocate 19327352832 bytes of device memory"), "ran out of memory (it has ", "GiB): ",
                "try a smaller --batch or --context", "(TornadoOutOfMemoryException: Unable to allocate 19327352832 bytes of device memory)");
        // TornadoVM's own cap, as TornadoVM 5.2 words it (colours and all): the way to raise it
        String cap = System.getProperty("tornado.device.memory", "4GB");
        String capped = deviceError(() -> new TornadoOutOfMemoryException(
                "Unable to allocate 5368709120 bytes of memory.\u001B[33m\n\tTo increase the maximum device memory, use -Dtornado.device.memory=<X>GB\n\u001B[0m"),
                "ran out of memory: TornadoVM lets a program use " + cap + " of it (-Dtornado.device.memory; the device has ",
                " GiB); raise that with TGPT_JAVA_OPTS=-Dtornado.device.memory=<X>GB, or try a smaller --batch",
                "(TornadoOutOfMemoryException: Unable to allocate 5368709120 bytes of memory.)");
        assertFalse(capped.contains("\u001B"), capped);
        // wrapped by our own code, and by message alone (the class tornado-jvm has)
        deviceError(() -> new IllegalStateException("session", new TornadoRuntimeException("Unable to allocate 512 MB: CL_MEM_OBJECT_ALLOCATION_FAILURE")),
                "ran out of memory");
        // an Error, which picocli does not hand to its exception handler
        deviceError(() -> new TornadoInternalError("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY"), "ran out of memory", "CUDA_ERROR_OUT_OF_MEMORY");
    }

    @Test
    void aKernelTheDeviceCannotCompileIsOneLine() {
        deviceError(() -> new TornadoBailoutRuntimeException("Unable to compile task train.matmulForward_3\nline 2 of the log"),
                "could not compile a kernel (TornadoBailoutRuntimeException: Unable to compile task train.matmulForward_3)",
                "./tgpt kernels --check --device 0:0");
        deviceError(() -> new TornadoDeviceFP64NotSupported("the device has no double precision"), "could not compile a kernel");
    }

    @Test
    void aDeviceThatCannotBeOpenedOrIsLostIsOneLine() {
        deviceError(() -> new TornadoRuntimeException("[TornadoVM-OCL-JNI] ERROR : clCreateContext -> Returned: CL_DEVICE_NOT_AVAILABLE"),
                "could not be opened or stopped responding", "CL_DEVICE_NOT_AVAILABLE", "./tgpt devices");
        deviceError(() -> new TornadoInternalError("cuCtxSynchronize: CUDA_ERROR_DEVICE_UNAVAILABLE"), "could not be opened or stopped responding");
    }

    @Test
    void whatIsTheUsersToFixIsToldApartByNameAndMessage() {
        Failure.Device d = new Failure.Device("1:2", "GPU", 1L << 34);
        assertEquals(Failure.Kind.DEVICE_MEMORY, Failure.classify(new RuntimeException(new TornadoOutOfMemoryException("x")), d).kind());
        assertEquals(Failure.Kind.DEVICE_COMPILE, Failure.classify(new TornadoRuntimeException("Unable to build sketch for task t"), d).kind());
        assertEquals(Failure.Kind.DEVICE_UNAVAILABLE, Failure.classify(new TornadoRuntimeException("cuInit: CUDA_ERROR_NO_DEVICE"), d).kind());
        // TornadoVM's memory exceptions that are not about running out, and its failures of no known kind: internal
        assertEquals(Failure.Kind.INTERNAL, Failure.classify(new TornadoMemoryException("Memory Segment not supported: class X"), d).kind());
        assertEquals(Failure.Kind.INTERNAL, Failure.classify(new TornadoMemoryException("[ERROR] Bytes Allocated <= 0: 0"), d).kind());
        assertEquals(Failure.Kind.INTERNAL, Failure.classify(new TornadoRuntimeException("graph g has no device buffer for x"), d).kind());
        // outside TornadoVM a message alone decides nothing; the host's OutOfMemoryError is the host's even inside a TornadoVM exception
        assertEquals(Failure.Kind.INTERNAL, Failure.classify(new IllegalStateException("unable to allocate a name"), d).kind());
        assertEquals(Failure.Kind.HOST_MEMORY, Failure.classify(new TornadoRuntimeException(new RuntimeException(new OutOfMemoryError("Direct buffer memory"))),
                d).kind());
        assertEquals(Failure.Kind.USER, Failure.classify(new RuntimeException(new dev.tgpt.engine.UserError("bad")), null).kind());
    }

    @Test
    void theHostRunningOutOfMemoryIsOneLine() {
        TgptTest.Run r = fail(() -> new OutOfMemoryError("Java heap space"), "fail", "--device", "jvm");
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("tgpt: out of memory on the host (Java heap space): try a smaller --batch or --context, --recompute, or a smaller model, or "
                + "give Java more with TGPT_JAVA_OPTS=-Xmx<size> (the heap may grow to "), line);
        // tgpt's arrays, off the heap
        r = fail(() -> new OutOfMemoryError("Cannot reserve 7078000 bytes of direct buffer memory (allocated: 60057664, limit: 67108864)"), "fail",
                "--device", "jvm");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().endsWith("TGPT_JAVA_OPTS=-XX:MaxDirectMemorySize=<size> (tgpt's arrays live off the heap; that limit defaults to -Xmx's)"),
                r.err());
    }

    @Test
    void anInternalErrorIsOneLineWithItsTraceInTheRunsDirectory(@TempDir Path out) throws Exception {
        TgptTest.Run r = fail(() -> new IllegalStateException("an invariant broke", new ArithmeticException("/ by zero")), "fail", "--device", "jvm", "--out",
                out.toString());
        assertEquals(1, r.code(), r.err());
        Path log = out.resolve(Tgpt.ERROR_LOG);
        assertEquals("tgpt: internal error (ArithmeticException: / by zero); the full stack trace is in " + log + " (--debug prints it here)",
                r.err().strip());
        String trace = Files.readString(log);
        assertTrue(trace.startsWith("tgpt fail --device jvm --out " + out + "\n"), trace);
        assertTrue(trace.contains("java.lang.IllegalStateException: an invariant broke") && trace.contains("Caused by: java.lang.ArithmeticException")
                && trace.contains("\tat dev.tgpt.app.FailuresTest"), trace);
        try (var files = Files.list(out)) {
            assertEquals(1, files.count(), "only the log, no temporary file left");
        }
    }

    @Test
    void anInternalErrorWithoutAnOutDirectoryGoesToATemporaryFile() throws Exception {
        TgptTest.Run r = fail(() -> new NullPointerException("x is null"), "fail", "--device", "jvm");
        assertEquals(1, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        String prefix = "tgpt: internal error (NullPointerException: x is null); the full stack trace is in ";
        assertTrue(line.startsWith(prefix) && line.endsWith(" (--debug prints it here)"), line);
        Path log = Path.of(line.substring(prefix.length(), line.length() - " (--debug prints it here)".length()));
        try {
            assertTrue(log.isAbsolute() && log.getFileName().toString().startsWith("tgpt-error-"), log.toString());
            assertTrue(Files.readString(log).contains("java.lang.NullPointerException: x is null\n\tat "));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void aTornadoFailureOfNoKnownKindIsInternalAndNamesTheDevice(@TempDir Path out) {
        TgptTest.Run r = fail(() -> new TornadoRuntimeException("graph g consumes an object that no graph persisted"), "fail", "--device", "0:0", "--out",
                out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("tgpt: internal error on device 0:0 [") && r.err().contains("(TornadoRuntimeException: graph g consumes"), r.err());
        assertTrue(Files.exists(out.resolve(Tgpt.ERROR_LOG)));
    }

    @Test
    void debugPrintsTheTraceInsteadOfALog(@TempDir Path out) throws Exception {
        for (String[] args : new String[][] { { "--debug", "fail", "--device", "jvm", "--out", out.toString() },
                { "fail", "--debug", "--device", "jvm", "--out", out.toString() } }) {
            TgptTest.Run r = fail(() -> new IllegalStateException("an invariant broke"), args);
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().startsWith("tgpt: internal error (IllegalStateException: an invariant broke)\njava.lang.IllegalStateException: an invariant broke\n"
                    + "\tat "), r.err());
        }
        assertFalse(Files.exists(out.resolve(Tgpt.ERROR_LOG)));
        // a device's error keeps its one line, and the trace follows it
        TgptTest.Run r = fail(() -> new TornadoOutOfMemoryException("Unable to allocate"), "fail", "--debug", "--device", "0:0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("tgpt: device 0:0 [") && r.err().contains("\tat "), r.err());
        // a user's mistake has no trace to show
        r = fail(() -> new dev.tgpt.engine.UserError("--steps must be at least 1"), "--debug", "fail", "--device", "jvm");
        assertEquals(2, r.code(), r.err());
        assertEquals("tgpt: --steps must be at least 1\n", r.err());
    }

    @Test
    void theEmulatorIsRefusedUnlessForced(@TempDir Path dir) throws Exception {
        Assumptions.assumeFalse(BuildMode.sdk(), "in SDK mode 0:0 is a real device");
        Assumptions.assumeFalse(DeviceOption.emulatorAllowed(), "TGPT_ALLOW_EMULATOR is set");
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "abcdefgh \n".repeat(40));
        String[] train = { "train", "--device", "0:0", "--data", text.toString(), "--model", "tiny", "--layers", "1", "--heads", "1", "--channels", "8",
                "--context", "8", "--steps", "1", "--batch", "1", "--eval-batches", "1", "--sample-tokens", "1", "--out", dir.resolve("run").toString() };
        TgptTest.Run r = TgptTest.run(train);
        assertEquals(2, r.code(), r.err());
        assertEquals("tgpt: device 0:0 is tornado-jvm's emulator of TornadoVM, for tests, about 1000 times slower than --device jvm (no TornadoVM SDK is "
                + "set up); for a real device install one and `source tornado-env.sh SDK`, or set TGPT_ALLOW_EMULATOR=1 to use the emulator anyway",
                r.err().strip());
        assertFalse(Files.exists(dir.resolve("run")), "nothing written");
        String previous = System.setProperty("tgpt.allowEmulator", "true");
        try {
            TgptTest.Run forced = TgptTest.run(train);
            assertEquals(0, forced.code(), forced.err());
            assertTrue(forced.out().startsWith("1 steps"), forced.out());
        } finally {
            restore(previous);
        }
    }
}
