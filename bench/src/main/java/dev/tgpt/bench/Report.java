package dev.tgpt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.tgpt.engine.io.AtomicFile;

/**
 * Writes a sweep's results: DIR/results.json (the machine, then one record per case, implementation and device),
 * DIR/results.csv (the same records), DIR/report.md and DIR/report.html (the side-by-side table of ours and theirs,
 * TornadoVM's profiler figures, the skipped) and DIR/plots/NAME.png (throughput against size, a line per
 * implementation and device).
 */
public final class Report {

    /** The columns of results.csv and the keys of a results.json record, in order. */
    static final List<String> COLUMNS = List.of("kind", "name", "shape", "impl", "device", "device_name", "runs", "median_ms", "p25_ms", "p75_ms",
            "min_ms", "max_ms", "spread", "stable", "gflops", "gbps", "peak_fraction", "compile_ms", "kernel_ms", "transfer_ms", "note");

    private Report() {
    }

    /** Writes every file, each whole or not at all ({@link AtomicFile}); returns the markdown report (the table bench/README.md shows). */
    public static String write(Path dir, Sweep.Outcome o, Map<String, Object> machine) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", LocalDate.now().toString());
        json.put("machine", machine);
        json.put("host_peaks", Map.of("gflops", o.hostPeaks().gflops(), "gbps", o.hostPeaks().gbps(), "source", o.hostPeaks().source()));
        json.put("results", o.results().stream().map(Report::record).toList());
        json.put("skipped", o.skipped());
        AtomicFile.writeString(dir.resolve("results.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
        AtomicFile.writeString(dir.resolve("results.csv"), csv(o.results()));
        List<String> plots = plots(dir.resolve("plots"), o.results());
        String md = markdown(o, machine);
        AtomicFile.writeString(dir.resolve("report.md"), md);
        AtomicFile.writeString(dir.resolve("report.html"), html(md, plots));
        return md;
    }

    /** A result as a results.json record: NaN (not measured, not meaningful) becomes null. */
    static Map<String, Object> record(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        Object[] values = { r.kind(), r.name(), r.shape(), r.impl(), r.device(), r.deviceName(), r.runs(), r.medianMs(), r.p25Ms(), r.p75Ms(),
                r.minMs(), r.maxMs(), r.spread(), r.stable(), r.gflops(), r.gbps(), r.peakFraction(), r.compileMs(), r.kernelMs(), r.transferMs(), r.note() };
        for (int i = 0; i < values.length; i++) {
            m.put(COLUMNS.get(i), values[i] instanceof Double d && d.isNaN() ? null : values[i]);
            if (i == 2) {
                m.put("params", r.params());
            }
        }
        return m;
    }

    static String csv(List<Result> results) {
        StringBuilder sb = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (Result r : results) {
            Map<String, Object> m = record(r);
            sb.append(COLUMNS.stream().map(k -> csvField(m.get(k))).collect(Collectors.joining(","))).append('\n');
        }
        return sb.toString();
    }

    private static String csvField(Object v) {
        if (v == null) {
            return "";
        }
        String s = v.toString();
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    /** "tgpt@jvm", "pytorch@cpu": a line of a plot, a column of the table. */
    static String who(Result r) {
        return r.impl() + "@" + r.device();
    }

    /**
     * The side-by-side table: per case, the median time of each implementation and device, then ours / theirs as a
     * speed ratio (their time over ours: above 1, ours is faster) for each of our devices against each reference.
     */
    static String markdown(Sweep.Outcome o, Map<String, Object> machine) {
        StringBuilder sb = new StringBuilder();
        sb.append("# tgpt bench, ").append(LocalDate.now()).append("\n\n");
        machine.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        sb.append("- CPU peaks: ").append(o.hostPeaks().source()).append("\n\n");
        for (String kind : List.of("kernel", "model")) {
            List<Result> rs = o.results().stream().filter(r -> r.kind().equals(kind)).toList();
            if (!rs.isEmpty()) {
                sb.append(kind.equals("kernel") ? "## Kernels" : "## Models").append(" (median ms; ours / theirs as a speed ratio)\n\n");
                sb.append(table(rs)).append('\n');
            }
        }
        List<Result> unstable = o.results().stream().filter(r -> !r.stable()).toList();
        if (!unstable.isEmpty()) {
            sb.append("## Unstable cases\n\nTheir runs never settled in ").append(Protocol.ATTEMPTS).append(" attempts (llm.c's own fixed run: one): \"±\" in the tables is the ")
                    .append("interquartile range as a share of the median; stable is at most ").append(Math.round(100 * Stats.MAX_SPREAD))
                    .append("%, with the median at most ").append(Math.round(Stats.MAX_OVER_FASTEST))
                    .append("× the fastest run. Their medians and ratios are not to be trusted.\n\n");
            sb.append("| case | shape | who | median | fastest | p25 – p75 |\n|---|---|---|---:|---:|---:|\n");
            for (Result r : unstable) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s – %s |%n", r.name(), r.shape(), who(r), format(r.medianMs()),
                        format(r.minMs()), format(r.p25Ms()), format(r.p75Ms())));
            }
            sb.append('\n');
        }
        List<Result> profiled = o.results().stream().filter(r -> !Double.isNaN(r.compileMs())).toList();
        if (!profiled.isEmpty()) {
            sb.append("## TornadoVM's profiler (ms)\n\n| case | shape | device | wall median | kernel median | copies median | compile (first run) |\n");
            sb.append("|---|---|---|---:|---:|---:|---:|\n");
            for (Result r : profiled) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.3f | %.3f | %.1f |%n", r.name(), r.shape(), r.device(), r.medianMs(),
                        r.kernelMs(), r.transferMs(), r.compileMs()));
            }
            sb.append('\n');
        }
        List<Result> noted = o.results().stream().filter(r -> r.note() != null && !r.note().isEmpty()).toList();
        if (!noted.isEmpty()) {
            sb.append("## Notes\n\n");
            noted.stream().map(r -> "- " + who(r) + " " + r.name() + ": " + r.note()).distinct().forEach(l -> sb.append(l).append('\n'));
            sb.append('\n');
        }
        if (!o.skipped().isEmpty()) {
            sb.append("## Not measured\n\n");
            o.skipped().forEach(s -> sb.append("- ").append(s).append('\n'));
        }
        return sb.toString();
    }

    private static String table(List<Result> rs) {
        Set<String> columns = new LinkedHashSet<>();
        rs.stream().filter(r -> r.impl().equals("tgpt")).forEach(r -> columns.add(who(r)));
        rs.stream().filter(r -> !r.impl().equals("tgpt")).forEach(r -> columns.add(who(r)));
        List<String> ours = columns.stream().filter(c -> c.startsWith("tgpt@")).toList();
        List<String> theirs = columns.stream().filter(c -> !c.startsWith("tgpt@")).toList();
        Map<String, Map<String, Result>> rows = new LinkedHashMap<>();
        for (Result r : rs) {
            rows.computeIfAbsent(r.name() + "|" + r.shape(), k -> new LinkedHashMap<>()).put(who(r), r);
        }
        List<String> header = new ArrayList<>(List.of("case", "shape"));
        columns.forEach(c -> header.add(c + " ms"));
        for (String a : ours) {
            for (String b : theirs) {
                header.add(a.substring(5) + " ÷ " + b);
            }
        }
        StringBuilder sb = new StringBuilder("| " + String.join(" | ", header) + " |\n|---|---|");
        sb.append("---:|".repeat(header.size() - 2)).append('\n');
        for (Map.Entry<String, Map<String, Result>> row : rows.entrySet()) {
            String[] key = row.getKey().split("\\|", 2);
            List<String> cells = new ArrayList<>(List.of(key[0], key[1]));
            for (String c : columns) {
                Result r = row.getValue().get(c);
                cells.add(r == null ? "" : format(r.medianMs()) + (r.stable() ? "" : " ±" + Math.round(100 * r.spread()) + "%"));
            }
            for (String a : ours) {
                for (String b : theirs) {
                    Result x = row.getValue().get(a);
                    Result y = row.getValue().get(b);
                    cells.add(x == null || y == null ? "" : String.format(Locale.ROOT, "%.2f", y.medianMs() / x.medianMs()));
                }
            }
            sb.append("| ").append(String.join(" | ", cells)).append(" |\n");
        }
        return sb.toString();
    }

    private static String format(double ms) {
        return String.format(Locale.ROOT, ms >= 100 ? "%.0f" : ms >= 1 ? "%.2f" : "%.4f", ms);
    }

    /** One PNG per kernel case name: throughput against its size parameter, log-log, a line per implementation and device. */
    static List<String> plots(Path dir, List<Result> results) throws IOException {
        Files.createDirectories(dir);
        List<String> files = new ArrayList<>();
        Map<String, List<Result>> byName = results.stream().filter(r -> r.kind().equals("kernel"))
                .collect(Collectors.groupingBy(Result::name, LinkedHashMap::new, Collectors.toList()));
        for (Map.Entry<String, List<Result>> e : byName.entrySet()) {
            List<Result> rs = e.getValue();
            String axis = sizeParameter(rs);
            if (axis == null) {
                continue;
            }
            XYChart chart = new XYChartBuilder().width(800).height(500).title(e.getKey()).xAxisTitle(axis).yAxisTitle(rs.get(0).unit()).build();
            chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true);
            Map<String, List<Result>> lines = rs.stream().collect(Collectors.groupingBy(Report::who, LinkedHashMap::new, Collectors.toList()));
            for (Map.Entry<String, List<Result>> l : lines.entrySet()) {
                List<Result> pts = l.getValue().stream().filter(r -> r.throughput() > 0)
                        .sorted((a, b) -> Integer.compare(a.params().get(axis), b.params().get(axis))).toList();
                if (!pts.isEmpty()) {
                    chart.addSeries(l.getKey(), pts.stream().mapToDouble(r -> r.params().get(axis)).toArray(),
                            pts.stream().mapToDouble(Result::throughput).toArray());
                }
            }
            if (chart.getSeriesMap().isEmpty()) {
                continue;
            }
            String file = e.getKey() + ".png";
            BitmapEncoder.saveBitmap(chart, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
            files.add("plots/" + file);
        }
        return files;
    }

    /** The one parameter that varies across a kernel's cases (N, T or n), or null if none or several do. */
    static String sizeParameter(List<Result> rs) {
        List<String> varying = rs.get(0).params().keySet().stream()
                .filter(k -> rs.stream().map(r -> r.params().get(k)).filter(Objects::nonNull).distinct().count() > 1).toList();
        return varying.size() == 1 ? varying.get(0) : null;
    }

    /** The markdown report as HTML (tables and lists are all it has), with the plots below. */
    static String html(String markdown, List<String> plots) {
        StringBuilder sb = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>tgpt bench</title><style>"
                + "body{font-family:sans-serif;margin:2em} table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccc;padding:3px 6px}"
                + " td{text-align:right} td:first-child,td:nth-child(2){text-align:left} img{max-width:800px}</style></head><body>\n");
        boolean inTable = false;
        boolean inList = false;
        for (String line : markdown.split("\n")) {
            if (inList && !line.startsWith("- ")) {
                sb.append("</ul>\n");
                inList = false;
            }
            if (inTable && !line.startsWith("|")) {
                sb.append("</table>\n");
                inTable = false;
            }
            if (line.startsWith("# ")) {
                sb.append("<h1>").append(escape(line.substring(2))).append("</h1>\n");
            } else if (line.startsWith("## ")) {
                sb.append("<h2>").append(escape(line.substring(3))).append("</h2>\n");
            } else if (line.startsWith("- ")) {
                sb.append(inList ? "" : "<ul>\n").append("<li>").append(escape(line.substring(2))).append("</li>\n");
                inList = true;
            } else if (line.startsWith("|---")) {
                continue;
            } else if (line.startsWith("|")) {
                String tag = inTable ? "td" : "th";
                sb.append(inTable ? "" : "<table>\n").append("<tr>");
                for (String cell : line.substring(1, line.length() - 1).split("\\|", -1)) {
                    sb.append('<').append(tag).append('>').append(escape(cell.trim())).append("</").append(tag).append('>');
                }
                sb.append("</tr>\n");
                inTable = true;
            }
        }
        sb.append(inTable ? "</table>\n" : "").append(inList ? "</ul>\n" : "");
        if (!plots.isEmpty()) {
            sb.append("<h2>Throughput against size</h2>\n");
            plots.forEach(p -> sb.append("<img src=\"").append(p).append("\" alt=\"").append(p).append("\">\n"));
        }
        return sb.append("</body></html>\n").toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
