package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * `./tgpt serve` as a user runs it, in its own process: greedy text through the server equals `./tgpt sample
 * --temperature 0` for the same prompt and length, and SIGTERM lets a request in flight finish before the process
 * exits.
 */
class ServeCommandTest {

    @TempDir
    Path dir;

    @Test
    void greedyAsSampleAndSigtermFinishesWhatIsInFlight() throws Exception {
        Path run = dir.resolve("run");
        TgptTest.Run t = TgptTest.run("train", "--device", "jvm", "--data", "../data/tinyshakespeare.txt", "--model", "tiny", "--context", "1024",
                "--layers", "4", "--channels", "96", "--steps", "3", "--batch", "1", "--eval-every", "3", "--eval-batches", "1", "--sample-tokens",
                "1", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        String ckpt = run.resolve("checkpoint").toString();
        TgptTest.Run sample = TgptTest.run("sample", "--device", "jvm", "--model", ckpt, "--prompt", "ROMEO:", "--tokens", "60", "--temperature", "0");
        assertEquals(0, sample.code(), sample.err());

        Process server = new ProcessBuilder(DataParallelTest.java("serve", "--model", ckpt, "--port", "0", "--device", "jvm")).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(server.getErrorStream()));
        try {
            int port = -1;
            for (String line; port < 0 && (line = err.readLine()) != null;) {
                Matcher m = Pattern.compile("serving run on http://127\\.0\\.0\\.1:(\\d+)/v1").matcher(line);
                port = m.find() ? Integer.parseInt(m.group(1)) : -1;
            }
            assertTrue(port > 0, "the server did not say where it listens");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI completions = URI.create("http://127.0.0.1:" + port + "/v1/completions");
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(completions)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"ROMEO:\", \"max_tokens\": 60, \"temperature\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(sample.out(), "ROMEO:" + new ObjectMapper().readTree(r.body()).at("/choices/0/text").asText() + System.lineSeparator());

            // a long streamed request; once its first tokens arrive, SIGTERM: it must still end with all its tokens
            CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> stream = http.sendAsync(HttpRequest.newBuilder(completions)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"ROMEO:\", \"max_tokens\": 1000, \"stream\": true}")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            var lines = stream.get(60, TimeUnit.SECONDS).body().iterator();
            String first = lines.next();
            assertTrue(first.startsWith("data: "), first);
            server.toHandle().destroy(); // SIGTERM (Process.destroy would also close the streams we read)
            int events = 1;
            String last = first;
            while (lines.hasNext()) {
                String l = lines.next();
                if (l.startsWith("data: ")) {
                    events++;
                    last = l;
                }
            }
            assertEquals("data: [DONE]", last);
            assertEquals(1000 + 2, events, "every token, the finish and [DONE]");
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server did not exit");
            List<String> rest = err.lines().toList();
            assertTrue(rest.contains("tgpt serve: stopping; finishing the 1 requests in flight"), String.join("\n", rest));
        } finally {
            server.destroyForcibly();
        }
    }
}
