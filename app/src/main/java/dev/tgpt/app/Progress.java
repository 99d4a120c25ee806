package dev.tgpt.app;

import java.io.PrintWriter;
import java.time.Duration;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars on stderr, so stdout stays the command's result. */
final class Progress {

    private Progress() {
    }

    static ProgressBar bar(String task, long total) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).showSpeed().build();
    }

    /** A line printed above the bar, which redraws below it. */
    static void above(ProgressBar bar, PrintWriter err, String line) {
        err.print("\r\033[K");
        err.println(line);
        err.flush();
        bar.refresh();
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s >= 60 ? s / 60 + "m" + String.format("%02d", s % 60) + "s" : String.format("%.1fs", d.toMillis() / 1000.0);
    }
}
