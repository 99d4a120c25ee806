package dev.tgpt.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.gpt.ChatTemplate;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.data.CharTokenizer;

/**
 * The server against the sampler it batches: greedy text through HTTP, alone or with other requests in the batch,
 * equals the sampler's for the same prompt and length (what `./tgpt sample --temperature 0` prints), token for token;
 * and bad or hostile input gets OpenAI's error objects while the server keeps answering.
 */
class ServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TEXT = "abcdefghijklmnopqrstuvwxyz .,!?\nUA:";
    static CharTokenizer tok;
    static Gpt model;
    /** A long context: a request of a thousand tokens keeps a slot for a while. */
    static Gpt slow;
    static Server server;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        tok = CharTokenizer.of(TEXT);
        GptConfig c = new GptConfig(GptConfig.Style.GPT2, tok.vocabSize(), 48, 2, 2, 32, 0f, 0);
        Parameters p = new Parameters(c);
        p.initialise(7);
        // larger weights than GPT-2's init, so that greedy choices are clear-cut rather than near-ties
        for (Parameters.Tensor t : p.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 8);
            }
        }
        model = new Gpt(c, p);
        GptConfig long_ = new GptConfig(GptConfig.Style.GPT2, tok.vocabSize(), 1024, 2, 2, 32, 0f, 0);
        Parameters q = new Parameters(long_);
        q.initialise(8);
        slow = new Gpt(long_, q);
        server = Server.start(model, tok, new JvmBackend(), Server.Options.defaults().port(0).maxBatch(4).maxQueue(16).maxBodyBytes(4096));
        http = HttpClient.newHttpClient();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> post(Server s, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String greedy(String prompt, int tokens) {
        try (Sampler s = new Sampler(model, new JvmBackend(), 1)) {
            return s.generate(List.of(prompt), tok, new Sampler.Options(tokens, 0f, 0, 1f, List.of(), 1)).getFirst();
        }
    }

    static String completion(String prompt, int tokens, boolean stream) throws Exception {
        String body = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", tokens).put("temperature", 0).put("stream", stream).toString();
        HttpResponse<String> r = post(server, "/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        if (!stream) {
            JsonNode n = JSON.readTree(r.body());
            assertEquals(tokens, n.at("/usage/completion_tokens").asInt(), r.body());
            assertEquals(tok.encode(prompt).length, n.at("/usage/prompt_tokens").asInt());
            return n.at("/choices/0/text").asText();
        }
        StringBuilder text = new StringBuilder();
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        for (String e : events.subList(0, events.size() - 1)) {
            text.append(JSON.readTree(e).at("/choices/0/text").asText());
        }
        assertEquals("length", JSON.readTree(events.get(events.size() - 2)).at("/choices/0/finish_reason").asText());
        return text.toString();
    }

    @Test
    void greedyTextEqualsTheSamplersAloneAndUnderConcurrency() throws Exception {
        assertEquals(greedy("to be or", 20), completion("to be or", 20, false));
        assertEquals(greedy("hello", 12), completion("hello", 12, true));
        // twelve requests of different lengths on 4 slots: they join and leave the batch at different steps
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            prompts.add("abcdefghijklmnop".substring(0, 1 + i % 7) + " q");
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> got = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                String p = prompts.get(i);
                int n = 5 + 3 * i;
                boolean stream = i % 2 == 0;
                got.add(pool.submit(() -> completion(p, n, stream)));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(greedy(prompts.get(i), 5 + 3 * i), got.get(i).get(), "request " + i);
            }
        }
    }

    /** On a TornadoVM device (PoCL in SDK mode), requests batched together give the JVM backend's greedy text. */
    @Test
    void onADeviceAsOnTheJvm() throws Exception {
        try (Server device = Server.start(model, tok, dev.tgpt.engine.TestBackends.device(), Server.Options.defaults().port(0).maxBatch(3));
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> got = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String body = JSON.createObjectNode().put("prompt", "ab".repeat(i + 1)).put("max_tokens", 6 + i).put("temperature", 0).toString();
                got.add(pool.submit(() -> post(device, "/v1/completions", body)));
            }
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = got.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(greedy("ab".repeat(i + 1), 6 + i), JSON.readTree(r.body()).at("/choices/0/text").asText(), "request " + i);
            }
        }
    }

    @Test
    void chatAndModels() throws Exception {
        String body = "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"max_tokens\": 8, \"temperature\": 0}";
        HttpResponse<String> r = post(server, "/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals("chat.completion", n.get("object").asText());
        assertEquals("assistant", n.at("/choices/0/message/role").asText());
        String prompt = ChatTemplate.BASE.render(List.of(new ChatTemplate.Message("system", "be brief"), new ChatTemplate.Message("user", "hi")));
        try (Sampler s = new Sampler(model, new JvmBackend(), 1)) {
            String want = s.generate(List.of(prompt), tok, new Sampler.Options(8, 0f, 0, 1f, List.of(ChatTemplate.BASE.stop()), 1)).getFirst();
            assertEquals(want.stripLeading(), n.at("/choices/0/message/content").asText());
        }
        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("tgpt", JSON.readTree(models.body()).at("/data/0/id").asText());
    }

    @Test
    void aCheckpointsChatTemplate() throws Exception {
        ChatTemplate t = new ChatTemplate("{content}\n", "U: {content}\n", "A: {content}\n", "A:", ".");
        try (Server s = Server.start(model, tok, new JvmBackend(), Server.Options.defaults().port(0).chatTemplate(t))) {
            HttpResponse<String> r = post(s, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 20, "
                    + "\"temperature\": 0}");
            assertEquals(200, r.statusCode(), r.body());
            try (Sampler sampler = new Sampler(model, new JvmBackend(), 1)) {
                String want = sampler.generate(List.of("U: hi\nA:"), tok, new Sampler.Options(20, 0f, 0, 1f, List.of("."), 1)).getFirst();
                assertEquals(want.stripLeading(), JSON.readTree(r.body()).at("/choices/0/message/content").asText());
            }
        }
    }

    static void error(HttpResponse<String> r, int status, String inMessage) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertTrue(e != null && e.get("message").asText().contains(inMessage) && e.has("type"), r.body());
    }

    @Test
    void badRequestsGetOpenAisErrors() throws Exception {
        error(post(server, "/v1/completions", "{\"prompt\": \"ab\""), 400, "not JSON");
        error(post(server, "/v1/completions", "{\"prompt\": 5}"), 400, "prompt must be a string");
        error(post(server, "/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": \"x\"}"), 400, "max_tokens must be an integer");
        error(post(server, "/v1/completions", "{\"prompt\": \"ab\", \"model\": \"gpt-4\"}"), 404, "does not exist");
        error(post(server, "/v1/completions", "{\"prompt\": \"" + "a".repeat(48) + "\"}"), 400, "context is 48");
        error(post(server, "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 46}"), 400, "at most 45");
        error(post(server, "/v1/completions", "{\"prompt\": \"ab\", \"temperature\": 3}"), 400, "temperature");
        error(post(server, "/v1/completions", "{\"prompt\": \"ab\", \"n\": 5}"), 400, "n must be between 1 and 4");
        error(post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}"), 400, "role");
        error(post(server, "/v1/nothing", "{}"), 404, "no route");
        error(post(server, "/v1/completions", "{\"prompt\": \"" + "a".repeat(5000) + "\"}"), 413, "over 4096 bytes");
        try (Server keyed = Server.start(model, tok, new JvmBackend(), Server.Options.defaults().port(0).apiKey("sesame"))) {
            error(post(keyed, "/v1/completions", "{\"prompt\": \"ab\"}"), 401, "API key");
            error(post(keyed, "/v1/completions", "{\"prompt\": \"ab\"}", "Authorization", "Bearer nope"), 401, "API key");
            assertEquals(200, post(keyed, "/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": 2}", "Authorization", "Bearer sesame").statusCode());
        }
    }

    /** Random, truncated and oversized bodies: every answer a 4xx with an error object, and the server still serves. */
    @Test
    void fuzzedBodiesNeverTakeTheServerDown() throws Exception {
        Random r = new Random(3);
        String valid = "{\"prompt\": \"abc\", \"max_tokens\": 3, \"temperature\": 0.5, \"stop\": [\"x\"], \"n\": 2, \"stream\": true}";
        for (int i = 0; i < 60; i++) {
            String body = switch (i % 3) {
                case 0 -> valid.substring(0, r.nextInt(valid.length()));
                case 1 -> {
                    byte[] b = new byte[r.nextInt(200)];
                    r.nextBytes(b);
                    yield new String(b, StandardCharsets.ISO_8859_1);
                }
                default -> valid.replace("\"abc\"", r.nextBoolean() ? "[1, {}]" : "null").replace("3", r.nextBoolean() ? "-1" : "1e99");
            };
            HttpResponse<String> resp = post(server, i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions", body);
            assertTrue(resp.statusCode() >= 400 && resp.statusCode() < 500 && JSON.readTree(resp.body()).has("error"), body + " -> " + resp.body());
        }
        assertEquals(greedy("abc", 6), completion("abc", 6, false));
    }

    /** A client that leaves mid-stream frees its slot: a one-slot server then serves the next request. */
    @Test
    void aClientThatLeavesFreesItsSlot() throws Exception {
        try (Server one = Server.start(slow, tok, new JvmBackend(), Server.Options.defaults().port(0).maxBatch(1).maxQueue(1))) {
            String body = "{\"prompt\": \"ab\", \"max_tokens\": 1000, \"stream\": true}";
            try (Socket s = new Socket("127.0.0.1", one.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                        + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = s.getInputStream();
                assertTrue(in.read() >= 0); // the stream has begun
            }
            HttpResponse<String> next = post(one, "/v1/completions", "{\"prompt\": \"cd\", \"max_tokens\": 3, \"temperature\": 0}");
            assertEquals(200, next.statusCode(), next.body());
            // the stream was cut short, not run to its thousandth token
            assertEquals(1, one.cancelled());
        }
    }

    /** A full queue is 429, not a wait without end. */
    @Test
    void aFullQueueIsTooManyRequests() throws Exception {
        try (Server one = Server.start(slow, tok, new JvmBackend(), Server.Options.defaults().port(0).maxBatch(1).maxQueue(1));
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                all.add(pool.submit(() -> post(one, "/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": 400}")));
            }
            int busy = 0;
            for (Future<HttpResponse<String>> f : all) {
                HttpResponse<String> resp = f.get();
                if (resp.statusCode() == 429) {
                    busy++;
                    error(resp, 429, "busy");
                } else {
                    assertEquals(200, resp.statusCode(), resp.body());
                }
            }
            assertTrue(busy > 0, "8 requests on one slot and a queue of 1: some must be refused");
        }
    }
}
