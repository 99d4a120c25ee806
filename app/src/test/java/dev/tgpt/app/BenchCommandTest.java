package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** ./tgpt bench on a few quick kernel cases: its files, and its refusal to time tornado-jvm's emulator. */
class BenchCommandTest {

    @Test
    void quickKernelsWriteResultsCsvReportAndPlots(@TempDir Path dir) throws Exception {
        TgptTest.Run r = TgptTest.run("bench", "--quick", "--device", "jvm", "--op", "gelu.forward,residual", "--no-models", "--python", "none", "--no-openblas",
                "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        JsonNode results = json.get("results");
        assertEquals(6, results.size(), results.toString()); // two sizes of gelu.forward, residual.forward and residual.backward
        for (JsonNode n : results) {
            assertEquals("tgpt", n.get("impl").asText());
            assertEquals("jvm", n.get("device").asText());
            assertTrue(n.get("median_ms").asDouble() > 0 && n.get("gbps").asDouble() > 0 && n.get("peak_fraction").asDouble() > 0, n.toString());
        }
        assertTrue(json.get("host_peaks").get("gbps").asDouble() > 0);
        assertEquals(7, Files.readAllLines(dir.resolve("results.csv")).size());
        assertTrue(Files.exists(dir.resolve("report.html")) && Files.exists(dir.resolve("plots/residual.backward.png")));
        assertTrue(r.out().contains("| gelu.forward | N=64 C=3072 |"), r.out());
    }

    @Test
    void theEmulatorIsNotADeviceToTime() {
        Assumptions.assumeFalse(BuildMode.sdk(), "in SDK mode 0:0 is a real device");
        CommandsTest.userError("emulator", "bench", "--quick", "--device", "0:0", "--out", "unused");
    }
}
