package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class ReportTest {

    private static final Peaks PEAKS = new Peaks(100, 10, "test");

    private static Result result(String impl, String device, int N, double ms) {
        Case c = Case.kernel("matmul.forward", Map.of("N", N), 2e9 * N / 1000, 0);
        return Result.of(c, impl, device, device + " device", Stats.of(new double[] { ms, ms }), PEAKS, impl.equals("pytorch") ? "a, \"quoted\" note" : "");
    }

    private static final List<Result> RESULTS = List.of(result("tgpt", "jvm", 1000, 20), result("tgpt", "jvm", 2000, 40),
            result("pytorch", "cpu", 1000, 30), result("pytorch", "cpu", 2000, 20));

    @Test
    void throughputAndPeakFollowFromTheCase() {
        Result r = RESULTS.get(0);
        assertEquals(100, r.gflops(), 1e-9); // 2e9 flops in 20 ms
        assertEquals(1.0, r.peakFraction(), 1e-12);
        assertTrue(Double.isNaN(r.gbps()));
        assertEquals("GFLOP/s", r.unit());
    }

    @Test
    void theTableGivesTheirTimeOverOurs() {
        String md = Report.markdown(new Sweep.Outcome(RESULTS, List.of("llm.c: no binary"), PEAKS), Map.of("cpu", "test"));
        assertTrue(md.contains("| case | shape | tgpt@jvm ms | pytorch@cpu ms | jvm ÷ pytorch@cpu |"), md);
        assertTrue(md.contains("| matmul.forward | N=1000 | 20.00 | 30.00 | 1.50 |"), md);
        assertTrue(md.contains("| matmul.forward | N=2000 | 40.00 | 20.00 | 0.50 |"), md);
        assertTrue(md.contains("- llm.c: no binary"), md);
    }

    @Test
    void unstableCasesAreMarkedWithTheirSpread() {
        Case c = Case.kernel("gelu.forward", Map.of("N", 64), 0, 1e6);
        Result noisy = Result.of(c, "tgpt", "jvm", "jvm device", Stats.of(new double[] { 0.3, 1, 1.1, 10.8, 11 }), PEAKS, "");
        assertFalse(noisy.stable());
        String md = Report.markdown(new Sweep.Outcome(List.of(noisy), List.of(), PEAKS), Map.of("cpu", "test"));
        assertTrue(md.contains("| gelu.forward | N=64 | 1.10 ±891% |"), md); // (10.8 − 1) / 1.1: quartiles 1 and 10.8 around 1.1
        assertTrue(md.contains("## Unstable cases"), md);
        assertTrue(md.contains("| gelu.forward | N=64 | tgpt@jvm | 1.10 | 0.3000 | 1.00 – 10.80 |"), md);
        assertFalse(Report.markdown(new Sweep.Outcome(RESULTS, List.of(), PEAKS), Map.of("cpu", "test")).contains("Unstable"));
    }

    @Test
    void writesJsonCsvHtmlAndAPlotPerKernel(@TempDir Path dir) throws Exception {
        Report.write(dir, new Sweep.Outcome(RESULTS, List.of(), PEAKS), Map.of("cpu", "test"));
        JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertEquals(4, json.get("results").size());
        JsonNode first = json.get("results").get(0);
        assertEquals("matmul.forward", first.get("name").asText());
        assertEquals(1000, first.get("params").get("N").asInt());
        assertTrue(first.get("gbps").isNull(), "NaN is written as null");
        assertTrue(first.get("stable").asBoolean());
        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(5, csv.size());
        assertEquals(String.join(",", Report.COLUMNS), csv.get(0));
        assertTrue(csv.get(3).endsWith("\"a, \"\"quoted\"\" note\""), csv.get(3));
        assertTrue(Files.size(dir.resolve("plots/matmul.forward.png")) > 1000);
        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("<td>matmul.forward</td>") && html.contains("<img src=\"plots/matmul.forward.png\""), html);
    }

    @Test
    void theSizeAxisIsTheOneParameterThatVaries() {
        assertEquals("N", Report.sizeParameter(RESULTS));
        Case a = Case.kernel("x.forward", Map.of("N", 1, "C", 2), 1, 0);
        Case b = Case.kernel("x.forward", Map.of("N", 2, "C", 3), 1, 0);
        Stats s = Stats.of(new double[] { 1 });
        assertNull(Report.sizeParameter(List.of(Result.of(a, "tgpt", "jvm", "", s, PEAKS, ""), Result.of(b, "tgpt", "jvm", "", s, PEAKS, ""))));
    }
}
