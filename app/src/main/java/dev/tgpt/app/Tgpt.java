package dev.tgpt.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.DeviceInfo;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.dist.Ranks;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/** The ./tgpt launcher: one picocli command per job. */
@Command(name = "tgpt", mixinStandardHelpOptions = true, versionProvider = Tgpt.Version.class,
        description = "Train and run GPT models with kernels compiled by TornadoVM, or on the JVM backend.",
        subcommands = { DevicesCommand.class, KernelsCommand.class, TokenizeCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class, FinetuneCommand.class,
                SftCommand.class, RmCommand.class, PpoCommand.class, DpoCommand.class, GrpoCommand.class, RlhfCommand.class, MergeCommand.class, ServeCommand.class, BenchCommand.class, GradsCommand.class, PlotCommand.class,
                CommandLine.HelpCommand.class },
        footer = { "", "./tgpt test [MAVEN_ARGS]  builds and runs the test suite (SDK mode after `source tornado-env.sh`)." })
public final class Tgpt implements Runnable {

    /** Where an internal error's stack trace goes: in the command's --out directory when it has one, else a temporary file. */
    static final String ERROR_LOG = "tgpt-error.log";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On a failure, print its full stack trace on stderr (otherwise an internal error's goes to a log file).")
    boolean debug;

    public static void main(String[] args) {
        CommandLine cl = commandLine();
        if (Ranks.launcherRank() > 0) {
            // rank 0 reports for a data-parallel run; the others print only their errors
            cl.setOut(new PrintWriter(java.io.OutputStream.nullOutputStream()));
            Progress.quiet = true;
        }
        int code = cl.execute(args);
        Ranks.end(code);
        System.exit(code);
    }

    /**
     * The command line with tgpt's error handling, the one place every command's failures end: a user's mistake, a
     * device's limit or the host running out of memory is one line on stderr and exit code 2; anything else (an
     * internal error) is one line naming a log file that holds the stack trace, exit code 1. With --debug the trace
     * follows the line on stderr instead.
     */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tgpt());
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return runLast.execute(parseResult);
            } catch (Error e) {
                // picocli passes Exceptions to the handler but lets Errors through: OutOfMemoryError, TornadoInternalError...
                List<CommandLine> parsed = parseResult.asCommandLineList();
                throw new CommandLine.ExecutionException(parsed.get(parsed.size() - 1), e.toString(), e);
            }
        });
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable t = e instanceof CommandLine.ExecutionException && e.getCause() instanceof Error ? e.getCause() : e;
            return report(t, commandLine, parseResult);
        });
        return cl;
    }

    /** Prints a failure's line (and trace, with --debug, or writes the trace to a log) and returns the exit code. */
    static int report(Throwable t, CommandLine commandLine, ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        Failure.Verdict v = Failure.classify(t, device(commandLine));
        boolean debug = debug(parseResult);
        if (v.kind() != Failure.Kind.INTERNAL || debug) {
            err.println("tgpt: " + v.line());
            if (debug && !(t instanceof UserError && t.getCause() == null)) { // a plain UserError has no trace to show
                t.printStackTrace(err);
            }
        } else {
            Path log = writeLog(t, commandLine, parseResult);
            if (log != null) {
                err.println("tgpt: " + v.line() + "; the full stack trace is in " + log + " (--debug prints it here)");
            } else {
                err.println("tgpt: " + v.line() + "; no log file could be written, so the stack trace follows");
                t.printStackTrace(err);
            }
        }
        err.flush();
        return v.exitCode();
    }

    private static boolean debug(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** The TornadoVM device the failed command was using, if one: its --device, or bench's one device. */
    static Failure.Device device(CommandLine commandLine) {
        CommandSpec spec = commandLine.getCommandSpec();
        List<Backend> inUse = new ArrayList<>();
        String asked = null;
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof DeviceOption d) {
                if (d.selected != null) {
                    inUse.add(d.selected);
                } else {
                    asked = d.device;
                }
            }
        }
        if (spec.userObject() instanceof BenchCommand bench) {
            inUse.addAll(bench.backends);
        }
        List<Backend> tornado = inUse.stream().filter(b -> !(b instanceof JvmBackend)).toList();
        if (tornado.size() == 1) {
            DeviceInfo i = tornado.get(0).info();
            return new Failure.Device(i.id(), i.name(), i.memoryBytes());
        }
        if (tornado.isEmpty() && asked != null && asked.trim().matches("\\d+:\\d+")) {
            return new Failure.Device(asked.trim(), null, 0);
        }
        return null;
    }

    /**
     * Writes the command line, the build and the stack trace to DIR/tgpt-error.log, DIR the command's existing --out
     * directory, else to a new temporary file; whole or not at all. Returns its path, or null if none could be written.
     */
    static Path writeLog(Throwable t, CommandLine commandLine, ParseResult parseResult) {
        StringWriter text = new StringWriter();
        try (PrintWriter w = new PrintWriter(text)) {
            w.println("tgpt " + String.join(" ", parseResult.originalArgs()));
            w.println(new Version().getVersion()[0]);
            w.println("Java " + Runtime.version() + " on " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", " + Instant.now());
            w.println();
            t.printStackTrace(w);
        }
        Path dir = outDirectory(commandLine);
        if (dir != null) {
            try {
                Path tmp = Files.createTempFile(dir, ".tgpt-error", ".tmp");
                try {
                    Files.writeString(tmp, text.toString());
                    return Files.move(tmp, dir.resolve(ERROR_LOG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException | RuntimeException e) {
                // a full or read-only directory: a temporary file instead
            }
        }
        Path log = null;
        try {
            log = Files.createTempFile("tgpt-error-", ".log");
            Files.writeString(log, text.toString());
            return log.toAbsolutePath();
        } catch (IOException | RuntimeException e) {
            try {
                if (log != null) {
                    Files.deleteIfExists(log);
                }
            } catch (IOException ignored) {
                // nothing more to do: the caller prints the trace
            }
            return null;
        }
    }

    private static Path outDirectory(CommandLine commandLine) {
        OptionSpec out = commandLine.getCommandSpec().findOption("--out");
        Object value = out == null ? null : out.getValue();
        if (value == null) {
            return null;
        }
        Path dir = Path.of(value.toString());
        return Files.isDirectory(dir) ? dir : null;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Tgpt.class.getPackage().getImplementationVersion();
            return new String[] { "tgpt " + (v == null ? "(development build)" : v) + ", " + BuildMode.describe() };
        }
    }
}
