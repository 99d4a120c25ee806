package dev.tgpt.app;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

import dev.tgpt.gpt.TrainingRun;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars on stderr, so stdout stays the command's result. */
final class Progress {

    private Progress() {
    }

    /** Ranks other than 0 of a data-parallel run draw no bars: rank 0 reports for all. */
    static boolean quiet;

    static ProgressBar bar(String task, long total) {
        java.io.PrintStream to = quiet ? new java.io.PrintStream(java.io.OutputStream.nullOutputStream()) : System.err;
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(to)).showSpeed().build();
    }

    /** A line printed above the bar, which redraws below it. */
    static void above(ProgressBar bar, PrintWriter err, String line) {
        err.print("\r\033[K");
        err.println(line);
        err.flush();
        bar.refresh();
    }

    /**
     * Progress of a run of several stages (SFT, reward model, PPO): a bar per stage, started when a stage's step count
     * starts again, with messages printed above it.
     */
    static final class Stages implements TrainingRun.Listener, AutoCloseable {
        private final String task;
        private final PrintWriter err;
        private ProgressBar bar;
        private int last;

        Stages(String task, PrintWriter err) {
            this.task = task;
            this.err = err;
        }

        @Override
        public void step(int step, int steps, float loss, Float valLoss, double tokensPerSecond) {
            if (bar == null || step <= last) {
                close();
                bar = bar(task, steps);
            }
            last = step;
            bar.stepTo(step);
            bar.setExtraMessage(String.format(Locale.ROOT, "%.3f", loss));
        }

        @Override
        public void message(String line) {
            if (bar == null) {
                err.println(line);
                err.flush();
            } else {
                above(bar, err, line);
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s >= 60 ? s / 60 + "m" + String.format("%02d", s % 60) + "s" : String.format("%.1fs", d.toMillis() / 1000.0);
    }
}
