package dev.tgpt.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.UserError;
import dev.tgpt.engine.Withers;
import dev.tgpt.gpt.ChatTemplate;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.data.Tokenizer;

/**
 * An OpenAI-compatible HTTP server over one model: GET /v1/models, POST /v1/completions and /v1/chat/completions
 * (optionally streamed as server-sent events), GET /health. Requests share the model's decoding steps through a
 * {@link Scheduler} (continuous batching). The HTTP server is the JDK's own (jdk.httpserver): no dependency, and its
 * handlers run on virtual threads, one per request, which block on their request's events while the scheduler's
 * one thread decodes for all. Errors are OpenAI's error objects with the status OpenAI uses.
 */
public final class Server implements AutoCloseable {

    /** How to serve: {@link #defaults()} and named withers. */
    public static final class Options extends Withers<Options> {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String apiKey;
        private int maxBatch = 8;
        private int maxQueue = 64;
        private int maxBodyBytes = 1 << 20;
        private String modelName = "tgpt";
        private ChatTemplate chatTemplate = ChatTemplate.BASE;
        private int drainSeconds = 60;

        private Options() {
        }

        public static Options defaults() {
            return new Options();
        }

        /** The address to bind: 127.0.0.1 unless told otherwise. */
        public Options host(String v) {
            return with(o -> o.host = v);
        }

        /** 0: any free port ({@link Server#port()} says which). */
        public Options port(int v) {
            return with(o -> o.port = v);
        }

        /** When set, every request but /health needs "Authorization: Bearer KEY". */
        public Options apiKey(String v) {
            return with(o -> o.apiKey = v);
        }

        /** Sequences decoded together (the sampler's slots). */
        public Options maxBatch(int v) {
            return with(o -> o.maxBatch = v);
        }

        /** Requests waiting for slots; more are refused with 429. */
        public Options maxQueue(int v) {
            return with(o -> o.maxQueue = v);
        }

        public Options maxBodyBytes(int v) {
            return with(o -> o.maxBodyBytes = v);
        }

        /** The model's id in /v1/models and the name requests must use (or leave out). */
        public Options modelName(String v) {
            return with(o -> o.modelName = v);
        }

        /** How /v1/chat/completions renders messages: the checkpoint's ({@link ChatTemplate#of}), else {@link ChatTemplate#BASE}. */
        public Options chatTemplate(ChatTemplate v) {
            return with(o -> o.chatTemplate = v);
        }

        /** How long {@link Server#close()} waits for requests in flight. */
        public Options drainSeconds(int v) {
            return with(o -> o.drainSeconds = v);
        }
    }

    /** An error answered as OpenAI answers it: {"error": {"message", "type", "param", "code"}}. */
    static final class ApiError extends RuntimeException {
        final int status;
        final String type;
        final String param;

        ApiError(int status, String type, String param, String message) {
            super(message);
            this.status = status;
            this.type = type;
            this.param = param;
        }

        static ApiError invalid(String param, String message) {
            return new ApiError(400, "invalid_request_error", param, message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Options options;
    private final Tokenizer tokenizer;
    private final int context;
    private final HttpServer http;
    private final Scheduler scheduler;

    private Server(Gpt model, Tokenizer tokenizer, Backend backend, Options o) throws IOException {
        this.options = o;
        this.tokenizer = tokenizer;
        this.context = model.config.context();
        this.scheduler = new Scheduler(() -> new Sampler(model, backend, o.maxBatch), tokenizer, o.maxQueue);
        this.http = HttpServer.create(new InetSocketAddress(o.host, o.port), 0);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", this::handle);
        http.start();
    }

    /** Starts serving {@code model} (its weights stay where they are; the server decodes with them on {@code backend}). */
    public static Server start(Gpt model, Tokenizer tokenizer, Backend backend, Options o) throws IOException {
        if (o.maxBatch < 1 || o.maxQueue < 1) {
            throw new UserError("--max-batch and the queue must be at least 1");
        }
        return new Server(model, tokenizer, backend, o);
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** Requests queued or generating now. */
    public int inFlight() {
        return scheduler.inFlight();
    }

    /** Requests cancelled mid-generation because their client left. */
    int cancelled() {
        return scheduler.cancelled();
    }

    /** Stops taking requests, lets those in flight finish (up to the drain time), then stops. */
    @Override
    public void close() {
        http.stop(options.drainSeconds);
        scheduler.close();
    }

    private void handle(HttpExchange x) {
        try (x) {
            try {
                route(x);
            } catch (ApiError e) {
                error(x, e);
            } catch (UserError e) {
                error(x, ApiError.invalid(null, e.getMessage()));
            } catch (IOException e) {
                // the client went away: nothing to answer
            } catch (RuntimeException e) {
                error(x, new ApiError(500, "server_error", null, "the server failed: " + e));
            }
        }
    }

    private void route(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        String method = x.getRequestMethod();
        if (path.equals("/health")) {
            send(x, 200, JSON.createObjectNode().put("status", "ok"));
            return;
        }
        if (options.apiKey != null && !("Bearer " + options.apiKey).equals(x.getRequestHeaders().getFirst("Authorization"))) {
            throw new ApiError(401, "invalid_request_error", null, "a missing or wrong API key: send \"Authorization: Bearer <key>\"");
        }
        switch (path) {
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode model = JSON.createObjectNode().put("id", options.modelName).put("object", "model").put("created", 0).put("owned_by", "tgpt");
                ObjectNode list = JSON.createObjectNode().put("object", "list");
                list.putArray("data").add(model);
                send(x, 200, list);
            }
            case "/v1/completions" -> {
                requireMethod(method, "POST");
                complete(x, false);
            }
            case "/v1/chat/completions" -> {
                requireMethod(method, "POST");
                complete(x, true);
            }
            default -> throw new ApiError(404, "invalid_request_error", null, "no route " + method + " " + path);
        }
    }

    private static void requireMethod(String method, String want) {
        if (!method.equals(want)) {
            throw new ApiError(405, "invalid_request_error", null, "use " + want);
        }
    }

    private void complete(HttpExchange x, boolean chat) throws IOException {
        JsonNode body = readJson(x);
        if (body.has("model") && !body.get("model").isNull() && !options.modelName.equals(text(body, "model", null))) {
            throw new ApiError(404, "invalid_request_error", "model", "the model '" + body.get("model").asText() + "' does not exist; this server has '"
                    + options.modelName + "'");
        }
        String prompt;
        List<String> stop = new ArrayList<>(stops(body.get("stop")));
        if (chat) {
            prompt = options.chatTemplate.render(messages(body.get("messages")));
            stop.add(options.chatTemplate.stop());
        } else {
            JsonNode p = body.get("prompt");
            if (p == null || !p.isTextual()) {
                throw ApiError.invalid("prompt", "prompt must be a string");
            }
            prompt = p.asText();
        }
        int promptTokens = tokenizer.encode(prompt).length;
        if (promptTokens == 0) {
            throw ApiError.invalid(chat ? "messages" : "prompt", "the prompt is empty: give at least one token of text");
        }
        if (promptTokens >= context) {
            throw ApiError.invalid(chat ? "messages" : "prompt", "the prompt has " + promptTokens + " tokens; the model's context is " + context
                    + " tokens, so a prompt may have at most " + (context - 1));
        }
        // OpenAI's newer name for it first
        int maxTokens = integer(body, "max_completion_tokens", integer(body, "max_tokens", chat ? context - promptTokens : 16));
        if (maxTokens < 0 || promptTokens + maxTokens > context) {
            throw ApiError.invalid("max_tokens", "max_tokens " + maxTokens + " with a prompt of " + promptTokens + " tokens exceeds the model's context of "
                    + context + " tokens: at most " + (context - promptTokens));
        }
        double temperature = number(body, "temperature", 1, 0, 2);
        double topP = number(body, "top_p", 1, Double.MIN_VALUE, 1);
        int n = integer(body, "n", 1);
        if (n < 1 || n > options.maxBatch) {
            throw ApiError.invalid("n", "n must be between 1 and " + options.maxBatch + " (this server's batch), not " + n);
        }
        long seed = body.has("seed") && !body.get("seed").isNull() ? integer(body, "seed", 0) : System.nanoTime();
        boolean stream = bool(body, "stream");
        Scheduler.Job job = new Scheduler.Job(prompt, new Sampler.Options(maxTokens, (float) temperature, 0, (float) topP, stop, seed), n);
        if (!scheduler.submit(job)) {
            throw new ApiError(429, "rate_limit_error", null, "the server is busy: " + options.maxQueue + " requests are waiting; try again later");
        }
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        long created = System.currentTimeMillis() / 1000;
        if (stream) {
            stream(x, job, chat, id, created);
        } else {
            answer(x, job, chat, id, created);
        }
    }

    /** Waits for every sequence's end, then answers with the whole texts. */
    private void answer(HttpExchange x, Scheduler.Job job, boolean chat, String id, long created) throws IOException {
        StringBuilder[] texts = new StringBuilder[job.n];
        String[] finish = new String[job.n];
        int prompt = 0;
        int completion = 0;
        for (int i = 0; i < job.n; i++) {
            texts[i] = new StringBuilder();
        }
        for (int ended = 0; ended < job.n;) {
            Scheduler.Event e = next(job);
            texts[e.index()].append(e.delta());
            if (e.finish() != null) {
                finish[e.index()] = e.finish();
                prompt = e.promptTokens();
                completion += e.completionTokens();
                ended++;
            }
        }
        ObjectNode r = head(chat ? "chat.completion" : "text_completion", id, created);
        ArrayNode choices = r.putArray("choices");
        for (int i = 0; i < job.n; i++) {
            ObjectNode c = choices.addObject().put("index", i);
            if (chat) {
                c.putObject("message").put("role", "assistant").put("content", texts[i].toString().stripLeading());
            } else {
                c.put("text", texts[i].toString()).putNull("logprobs");
            }
            c.put("finish_reason", finish[i]);
        }
        r.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
        send(x, 200, r);
    }

    /** Server-sent events in OpenAI's chunk format, then "data: [DONE]"; a client that leaves cancels the request. */
    private void stream(HttpExchange x, Scheduler.Job job, boolean chat, String id, long created) throws IOException {
        // the first event before the headers: a request the model refuses still gets its error status
        Scheduler.Event first = next(job);
        x.getResponseHeaders().set("Content-Type", "text/event-stream");
        x.getResponseHeaders().set("Cache-Control", "no-cache");
        x.sendResponseHeaders(200, 0);
        OutputStream out = x.getResponseBody();
        // a reply's first token follows "Assistant:" with a space, which the answer leaves out, streamed or not
        boolean[] started = new boolean[job.n];
        try {
            for (int ended = 0; ended < job.n;) {
                Scheduler.Event e = first != null ? first : next(job);
                first = null;
                String text = chat && !started[e.index()] ? e.delta().stripLeading() : e.delta();
                started[e.index()] |= !text.isEmpty();
                ObjectNode chunk = head(chat ? "chat.completion.chunk" : "text_completion", id, created);
                ObjectNode c = chunk.putArray("choices").addObject().put("index", e.index());
                if (chat) {
                    ObjectNode delta = c.putObject("delta");
                    if (e.finish() == null) {
                        delta.put("role", "assistant").put("content", text);
                    }
                } else {
                    c.put("text", text).putNull("logprobs");
                }
                if (e.finish() != null) {
                    c.put("finish_reason", e.finish());
                    ended++;
                } else {
                    c.putNull("finish_reason");
                }
                event(out, JSON.writeValueAsString(chunk));
            }
            event(out, "[DONE]");
        } catch (IOException e) {
            job.cancelled = true;
            throw e;
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The job's next event; an error the model raised becomes the request's error. */
    private static Scheduler.Event next(Scheduler.Job job) throws IOException {
        Scheduler.Event e;
        try {
            e = job.events.poll(10, TimeUnit.MINUTES);
        } catch (InterruptedException ie) {
            job.cancelled = true;
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (e == null) {
            job.cancelled = true;
            throw new ApiError(500, "server_error", null, "no token in 10 minutes: the request was cancelled");
        }
        if (e.error() != null) {
            throw e.error();
        }
        return e;
    }

    private ObjectNode head(String object, String id, long created) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", created).put("model", options.modelName);
    }

    private JsonNode readJson(HttpExchange x) throws IOException {
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readNBytes(options.maxBodyBytes + 1);
        }
        if (body.length > options.maxBodyBytes) {
            throw new ApiError(413, "invalid_request_error", null, "the request body is over " + options.maxBodyBytes + " bytes");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "the body is not JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw ApiError.invalid(null, "the body must be a JSON object");
        }
        return n;
    }

    private static List<ChatTemplate.Message> messages(JsonNode m) {
        if (m == null || !m.isArray() || m.isEmpty()) {
            throw ApiError.invalid("messages", "messages must be a non-empty array of {\"role\", \"content\"}");
        }
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (JsonNode e : m) {
            String role = e.isObject() ? text(e, "role", null) : null;
            String content = e.isObject() ? text(e, "content", null) : null;
            if (role == null || content == null || !List.of("system", "user", "assistant").contains(role)) {
                throw ApiError.invalid("messages", "each message needs a role (system, user or assistant) and a string content");
            }
            out.add(new ChatTemplate.Message(role, content));
        }
        return out;
    }

    private static List<String> stops(JsonNode s) {
        if (s == null || s.isNull()) {
            return List.of();
        }
        if (s.isTextual()) {
            return List.of(s.asText());
        }
        if (s.isArray() && s.size() <= 4) {
            List<String> out = new ArrayList<>();
            for (JsonNode e : s) {
                if (!e.isTextual()) {
                    throw ApiError.invalid("stop", "stop must be a string or an array of up to 4 strings");
                }
                out.add(e.asText());
            }
            return out;
        }
        throw ApiError.invalid("stop", "stop must be a string or an array of up to 4 strings");
    }

    private static String text(JsonNode body, String name, String otherwise) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isTextual()) {
            throw ApiError.invalid(name, name + " must be a string");
        }
        return v.asText();
    }

    private static int integer(JsonNode body, String name, int otherwise) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiError.invalid(name, name + " must be an integer");
        }
        return v.asInt();
    }

    private static double number(JsonNode body, String name, double otherwise, double lo, double hi) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isNumber() || v.asDouble() < lo || v.asDouble() > hi) {
            throw ApiError.invalid(name, name + " must be a number in [" + (lo == Double.MIN_VALUE ? "0 exclusive" : lo) + ", " + hi + "]");
        }
        return v.asDouble();
    }

    private static boolean bool(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(name, name + " must be true or false");
        }
        return v.asBoolean();
    }

    private static void error(HttpExchange x, ApiError e) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode err = body.putObject("error").put("message", e.getMessage()).put("type", e.type);
        if (e.param != null) {
            err.put("param", e.param);
        } else {
            err.putNull("param");
        }
        err.putNull("code");
        try {
            send(x, e.status, body);
        } catch (IOException | IllegalStateException ignored) {
            // headers already sent (a stream failed midway) or the client left: nothing more to say
        }
    }

    private static void send(HttpExchange x, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }
}
