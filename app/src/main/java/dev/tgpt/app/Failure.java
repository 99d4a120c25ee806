package dev.tgpt.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import dev.tgpt.engine.UserError;

/**
 * What a failure that reached the launcher is, and the one line that says so. A user's mistake ({@link UserError}),
 * a device's limit (its memory, a kernel it cannot compile, a device that cannot be opened or goes away) and the
 * host running out of memory are the user's to fix: one line, exit code 2. Anything else is an internal error: exit
 * code 1, its stack trace in a log file (or on stderr with --debug).
 *
 * <p>TornadoVM's exceptions are told apart by class name and message, not by type: in JVM mode its API comes from
 * tornado-jvm, which has few of them, and different TornadoVM versions and backends throw different ones.
 */
final class Failure {

    /** How a failure ends the run. */
    enum Kind {
        USER, DEVICE_MEMORY, DEVICE_COMPILE, DEVICE_UNAVAILABLE, HOST_MEMORY, INTERNAL
    }

    /**
     * A classified failure.
     *
     * @param kind what it is
     * @param line the one line for stderr, without the "tgpt: " prefix (an internal error's lacks the log's path)
     */
    record Verdict(Kind kind, String line) {

        int exitCode() {
            return kind == Kind.INTERNAL ? 1 : 2;
        }
    }

    /** The device a command was using, for the message: e.g. "0:0", its name and memory; all but id may be null. */
    record Device(String id, String name, long memoryBytes) {

        String describe() {
            return "device " + id + (name == null ? "" : " [" + name + "]");
        }
    }

    private static final String TORNADO = "uk.ac.manchester.tornado.";
    private static final String TORNADO_JVM = "dev.tgpt.tornadojvm.";
    /** TornadoVM colours some messages with terminal escapes. */
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[;\\d]*m");

    // Each pattern is matched against "SimpleName: message" (the message on one line), case ignored.
    private static final Pattern MEMORY = Pattern.compile("(?i).*(OutOfMemory|OutOfResources|unable to allocate|out of (device )?memory"
            + "|out_of_memory|out_of_resources|mem_object_allocation_failure|insufficient (device )?memory|not enough (device )?memory"
            + "|failed to allocate|could not allocate|allocation failed).*");
    private static final Pattern UNAVAILABLE = Pattern.compile("(?i).*(DeviceNotFound|BackendNotFound|NoOpenCLPlatform|NoMetalPlatform"
            + "|device not (found|available)|device required not found|device_not_(found|available)|no such device"
            + "|no (tornadovm |opencl |cuda |ptx |spir-?v )?devices? (found|available)|cuda_error_no_device|cuda_error_device_unavailable"
            + "|cuda_error_not_initialized|cuda_error_ecc_uncorrectable|device (was |has been )?lost|device_lost|lost the device"
            + "|cl_invalid_device|cl_invalid_context|cl_invalid_command_queue|platform not found|platform_not_found"
            + "|no (opencl )?platforms? (found|available)|driver (not found|error|version)|cannot (open|find|use) (the )?device"
            + "|could not (open|create|find) (a |the )?(context|device|platform)|libopencl|libcuda|libnvrtc|libze_loader).*");
    private static final Pattern COMPILE = Pattern.compile("(?i).*(Bailout|FP64NotSupported|FP16NotSupported|FP8NotSupported"
            + "|MMANotSupported|CompilationException|InliningException|unable to compile|compilation (failed|error)|failed to compile"
            + "|unable to build sketch|build_program_failure|cl_invalid_program|cl_invalid_binary|cuda_error_invalid_ptx"
            + "|cuda_error_invalid_source|ptxas|nvrtc_error|ptx jit).*");
    /** TornadoVM's own cap on the device memory a program may use, which its out-of-memory message names. */
    private static final String CAP = "tornado.device.memory";

    private Failure() {
    }

    /**
     * Classifies a failure.
     *
     * @param t      what was thrown
     * @param device the TornadoVM device the command was using, or null (the JVM backend, or none chosen yet)
     */
    static Verdict classify(Throwable t, Device device) {
        List<Throwable> chain = chain(t);
        for (Throwable c : chain) {
            if (c instanceof UserError) {
                return new Verdict(Kind.USER, c.getMessage());
            }
        }
        for (Throwable c : chain) {
            if (c instanceof OutOfMemoryError) { // the host's: TornadoVM's own are exceptions
                String what = firstLine(c.getMessage(), "no details");
                String more = what.contains("direct buffer memory")
                        ? "TGPT_JAVA_OPTS=-XX:MaxDirectMemorySize=<size> (tgpt's arrays live off the heap; that limit defaults to -Xmx's)"
                        : "TGPT_JAVA_OPTS=-Xmx<size> (the heap may grow to " + size(Runtime.getRuntime().maxMemory()) + " here)";
                return new Verdict(Kind.HOST_MEMORY, "out of memory on the host (" + what + "): try a smaller --batch or --context, --recompute, or a smaller model, "
                        + "or give Java more with " + more);
            }
        }
        boolean fromTornado = chain.stream().anyMatch(Failure::fromTornado);
        if (fromTornado || chain.stream().anyMatch(c -> c instanceof UnsatisfiedLinkError && matches(UNAVAILABLE, c))) {
            String what = device == null ? "the TornadoVM device" : device.describe();
            List<Throwable> innermostFirst = chain.reversed(); // a wrapper's message often repeats its cause's
            for (Throwable c : innermostFirst) {
                if (matches(MEMORY, c)) {
                    return new Verdict(Kind.DEVICE_MEMORY, what + " ran out of memory" + memoryAdvice(chain, device) + " (" + summary(c) + ")");
                }
            }
            for (Throwable c : innermostFirst) {
                if (matches(UNAVAILABLE, c)) {
                    return new Verdict(Kind.DEVICE_UNAVAILABLE, what + " could not be opened or stopped responding (" + summary(c)
                            + "); ./tgpt devices lists the devices usable now");
                }
            }
            for (Throwable c : innermostFirst) {
                if (matches(COMPILE, c)) {
                    String id = device == null ? "N:M" : device.id();
                    return new Verdict(Kind.DEVICE_COMPILE, what + " could not compile a kernel (" + summary(c) + "); ./tgpt kernels --check "
                            + "--device " + id + " shows which ops it can run, or use --device jvm");
                }
            }
        }
        Throwable root = chain.get(chain.size() - 1);
        String where = fromTornado && device != null ? " on " + device.describe() : "";
        return new Verdict(Kind.INTERNAL, "internal error" + where + " (" + summary(root) + ")");
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }

    /** The throwable and its causes, outermost first (a cycle ends the list). */
    static List<Throwable> chain(Throwable t) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
            chain.add(c);
        }
        return chain;
    }

    /** Whether TornadoVM (or tornado-jvm, its stand-in) threw it: by its class, or the code that threw it. */
    private static boolean fromTornado(Throwable c) {
        String name = c.getClass().getName();
        if (name.startsWith(TORNADO) || name.startsWith(TORNADO_JVM)) {
            return true;
        }
        StackTraceElement[] trace = c.getStackTrace();
        return trace.length > 0 && (trace[0].getClassName().startsWith(TORNADO) || trace[0].getClassName().startsWith(TORNADO_JVM));
    }

    private static boolean matches(Pattern p, Throwable c) {
        String message = c.getMessage() == null ? "" : c.getMessage().replace('\n', ' ').replace('\r', ' ');
        return p.matcher(c.getClass().getSimpleName() + ": " + message).matches();
    }

    /**
     * What to do about a device's memory: TornadoVM caps what a program may allocate on a device at
     * -Dtornado.device.memory (4GB by default in 5.2), far below a large GPU's memory, and says so in its message.
     */
    private static String memoryAdvice(List<Throwable> chain, Device device) {
        String has = device != null && device.memoryBytes() > 0 ? size(device.memoryBytes()) : null;
        boolean capped = chain.stream().anyMatch(c -> c.getMessage() != null && c.getMessage().contains(CAP));
        if (capped) {
            return ": TornadoVM lets a program use " + System.getProperty(CAP, "4GB") + " of it (-D" + CAP + (has == null ? "" : "; the device has " + has)
                    + "); raise that with TGPT_JAVA_OPTS=-D" + CAP + "=<X>GB, or try a smaller --batch or --context, --recompute, or a smaller model";
        }
        return (has == null ? "" : " (it has " + has + ")") + ": the model and its working memory do not fit; try a smaller --batch or --context, "
                + "or a smaller model";
    }

    /** "SimpleName: the message's first line", shortened: what goes inside a one-line message. */
    static String summary(Throwable c) {
        String m = firstLine(c.getMessage(), null);
        return m == null ? c.getClass().getSimpleName() : c.getClass().getSimpleName() + ": " + m;
    }

    private static String firstLine(String message, String otherwise) {
        if (message == null) {
            return otherwise;
        }
        String line = ANSI.matcher(message).replaceAll("").strip().lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse(null);
        if (line == null) {
            return otherwise;
        }
        return line.length() > 240 ? line.substring(0, 237) + "..." : line;
    }
}
