package dev.tgpt.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draws DIR/metrics.jsonl (training and validation loss, and any reward or KL a run logged) into DIR/curves.png.")
final class PlotCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "A run's output directory (train, finetune, sft, rm, ppo).")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Path metrics = dir.resolve("metrics.jsonl");
        List<String> lines;
        try {
            lines = Files.readAllLines(metrics, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(metrics + ": no such file (is " + dir + " a run's output directory?)");
        }
        ObjectMapper json = new ObjectMapper();
        XYChart chart = new XYChartBuilder().width(1000).height(600).title(dir.getFileName() + "").xAxisTitle("step").yAxisTitle("value").build();
        chart.getStyler().setMarkerSize(4);
        String[] keys = { "loss", "val_loss", "val_acc", "reward", "kl" };
        int plotted = 0;
        for (String key : keys) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = json.readTree(lines.get(i));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new UserError(metrics + ":" + (i + 1) + ": not JSON");
                }
                if (n.hasNonNull(key) && n.hasNonNull("step")) {
                    x.add(n.get("step").asDouble());
                    y.add(n.get(key).asDouble());
                }
            }
            if (!x.isEmpty()) {
                XYSeries s = chart.addSeries(key, x, y);
                s.setMarker(key.startsWith("val") ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
                plotted++;
            }
        }
        if (plotted == 0) {
            throw new UserError(metrics + " has no step with a loss, val_loss, val_acc, reward or kl to plot");
        }
        Path png = dir.resolve("curves.png");
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        spec.commandLine().getOut().println("wrote " + png);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
