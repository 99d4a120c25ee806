package dev.tgpt.app;

import java.io.PrintWriter;

import dev.tgpt.engine.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The ./tgpt launcher: one picocli command per job. */
@Command(name = "tgpt", mixinStandardHelpOptions = true, versionProvider = Tgpt.Version.class,
        description = "Train and run GPT models with kernels compiled by TornadoVM, or on the JVM backend.",
        subcommands = { DevicesCommand.class, KernelsCommand.class, TokenizeCommand.class, TrainCommand.class, SampleCommand.class, FinetuneCommand.class,
                SftCommand.class, RmCommand.class, PpoCommand.class, RlhfCommand.class, BenchCommand.class, GradsCommand.class, PlotCommand.class,
                CommandLine.HelpCommand.class },
        footer = { "", "./tgpt test [MAVEN_ARGS]  builds and runs the test suite (SDK mode after `source tornado-env.sh`)." })
public final class Tgpt implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with tgpt's error handling: a user's mistake is one line on stderr, exit code 2. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tgpt());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof UserError) {
                PrintWriter err = commandLine.getErr();
                err.println("tgpt: " + e.getMessage());
                err.flush();
                return 2;
            }
            throw e;
        });
        return cl;
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
