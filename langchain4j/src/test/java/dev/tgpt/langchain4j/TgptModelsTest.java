package dev.tgpt.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.gpt.ChatTemplate;
import dev.tgpt.gpt.Gpt;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.GptModel;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.serve.Server;

/**
 * LangChain4j's API over tgpt, two ways, against the sampler: the embedded models (no server), and LangChain4j's
 * own OpenAI client (langchain4j-open-ai, a client this project did not write) talking to tgpt's server. Greedy
 * replies equal the sampler's continuation of the chat template's prompt, token for token.
 */
class TgptModelsTest {

    static final String TEXT = "abcdefghijklmnopqrstuvwxyz .,!?\nUA:";
    static CharTokenizer tok;
    static Parameters params;
    static GptConfig config;
    static GptModel gpt;
    static Server server;

    @BeforeAll
    static void start() throws Exception {
        tok = CharTokenizer.of(TEXT);
        config = new GptConfig(GptConfig.Style.GPT2, tok.vocabSize(), 64, 2, 2, 32, 0f, 0);
        params = new Parameters(config);
        params.initialise(5);
        // larger weights than GPT-2's init, so that greedy choices are clear-cut rather than near-ties
        for (Parameters.Tensor t : params.tensors()) {
            for (int i = 0; i < t.size(); i++) {
                t.data().set(i, t.data().get(i) * 8);
            }
        }
        gpt = new GptModel(config, params, tok, new JvmBackend());
        server = Server.start(new Gpt(config, params), tok, new JvmBackend(), Server.Options.defaults().port(0));
    }

    @AfterAll
    static void stop() {
        server.close();
        gpt.close();
    }

    /** What a greedy reply must be: the sampler's continuation of the template's prompt, up to the next user turn. */
    static String greedyReply(String system, String user, int tokens) {
        String prompt = ChatTemplate.BASE.render(List.of(new ChatTemplate.Message("system", system), new ChatTemplate.Message("user", user)));
        try (Sampler s = new Sampler(new Gpt(config, params), new JvmBackend(), 1)) {
            return s.generate(List.of(prompt), tok, new Sampler.Options(tokens, 0f, 0, 1f, List.of(ChatTemplate.BASE.stop()), 1)).getFirst().stripLeading();
        }
    }

    static ChatRequest request() {
        return ChatRequest.builder().messages(SystemMessage.from("be brief"), UserMessage.from("hi there")).temperature(0.0).maxOutputTokens(12).build();
    }

    static String stream(StreamingChatModel model) throws Exception {
        StringBuffer parts = new StringBuffer();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(request(), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        String whole = done.get(60, TimeUnit.SECONDS).aiMessage().text(); // the client may call back on its own thread
        assertEquals(whole, parts.toString());
        return whole;
    }

    @Test
    void embeddedChatStreamingAndLanguageModels() throws Exception {
        String want = greedyReply("be brief", "hi there", 12);
        ChatModel chat = TgptModels.builder().model(gpt).chatModel();
        ChatResponse r = chat.chat(request());
        assertEquals(want, r.aiMessage().text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(12, r.tokenUsage().outputTokenCount());
        assertEquals(want, stream(TgptModels.builder().model(gpt).streamingChatModel()));
        assertEquals(gpt.generate("abc", new Sampler.Options(7, 0f, 0, 1f, List.of(), 0)),
                TgptModels.builder().model(gpt).maxTokens(7).temperature(0).languageModel().generate("abc").content());
    }

    @Test
    void aCheckpointsChatTemplate(@TempDir Path dir) throws Exception {
        gpt.save(dir);
        Files.writeString(dir.resolve(ChatTemplate.FILE), "{\"system\": \"{content}\\n\", \"user\": \"U: {content}\\n\", \"assistant\": "
                + "\"A: {content}\\n\", \"generation\": \"A:\", \"stop\": \".\"}");
        try (GptModel loaded = GptModel.load(dir, "jvm"); Sampler s = new Sampler(new Gpt(config, params), new JvmBackend(), 1)) {
            String want = s.generate(List.of("be brief\nU: hi there\nA:"), tok, new Sampler.Options(12, 0f, 0, 1f, List.of("."), 1)).getFirst();
            assertEquals(want.stripLeading(), TgptModels.builder().model(loaded).chatModel().chat(request()).aiMessage().text());
        }
    }

    @Test
    void langChain4jsOpenAiClientAgainstTheServer() throws Exception {
        String want = greedyReply("be brief", "hi there", 12);
        String url = "http://127.0.0.1:" + server.port() + "/v1";
        ChatModel client = OpenAiChatModel.builder().baseUrl(url).apiKey("unused").modelName("tgpt").build();
        ChatResponse r = client.chat(request());
        assertEquals(want, r.aiMessage().text());
        assertEquals(12, r.tokenUsage().outputTokenCount());
        assertEquals(want, stream(OpenAiStreamingChatModel.builder().baseUrl(url).apiKey("unused").modelName("tgpt").build()));
    }
}
