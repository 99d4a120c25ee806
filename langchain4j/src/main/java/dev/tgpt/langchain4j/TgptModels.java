package dev.tgpt.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.language.LanguageModel;
import dev.tgpt.gpt.GptModel;

/**
 * LangChain4j's models over a tgpt model in this JVM, no server:
 *
 * <pre>{@code
 * GptModel gpt = GptModel.load(Path.of("runs/shakespeare/checkpoint"), "auto");
 * ChatModel chat = TgptModels.builder().model(gpt).maxTokens(200).temperature(0.8).chatModel();
 * String reply = chat.chat("Who art thou?");
 * StreamingChatModel streaming = TgptModels.builder().model(gpt).streamingChatModel();
 * LanguageModel text = TgptModels.builder().model(gpt).languageModel();
 * }</pre>
 *
 * Chat messages become one prompt by tgpt's chat template (`./tgpt serve` uses the same); a reply ends where the
 * model starts the user's next turn. Calls on one {@link GptModel} take turns (it decodes one request at a time);
 * `./tgpt serve` batches concurrent requests.
 */
public final class TgptModels {

    private GptModel model;
    private int maxTokens = 256;
    private double temperature = 1;
    private long seed;
    private String name = "tgpt";

    private TgptModels() {
    }

    /** Defaults for what a request leaves out: at most 256 tokens, temperature 1, seed 0. */
    public static TgptModels builder() {
        return new TgptModels();
    }

    public TgptModels model(GptModel v) {
        model = v;
        return this;
    }

    public TgptModels maxTokens(int v) {
        maxTokens = v;
        return this;
    }

    public TgptModels temperature(double v) {
        temperature = v;
        return this;
    }

    public TgptModels seed(long v) {
        seed = v;
        return this;
    }

    /** The model's name in responses. */
    public TgptModels name(String v) {
        name = v;
        return this;
    }

    public ChatModel chatModel() {
        Chats chats = chats();
        return new ChatModel() {
            @Override
            public dev.langchain4j.model.chat.response.ChatResponse doChat(dev.langchain4j.model.chat.request.ChatRequest request) {
                return chats.chat(request, text -> {
                });
            }
        };
    }

    public StreamingChatModel streamingChatModel() {
        Chats chats = chats();
        return new StreamingChatModel() {
            @Override
            public void doChat(dev.langchain4j.model.chat.request.ChatRequest request,
                    dev.langchain4j.model.chat.response.StreamingChatResponseHandler handler) {
                dev.langchain4j.model.chat.response.ChatResponse response;
                try {
                    response = chats.chat(request, text -> {
                        if (!text.isEmpty()) {
                            handler.onPartialResponse(text);
                        }
                    });
                } catch (RuntimeException e) {
                    handler.onError(e);
                    return;
                }
                handler.onCompleteResponse(response);
            }
        };
    }

    /** Plain text continuation: the prompt as it is, no chat template. */
    public LanguageModel languageModel() {
        Chats chats = chats();
        return prompt -> chats.complete(prompt);
    }

    private Chats chats() {
        if (model == null) {
            throw new IllegalStateException("TgptModels needs a model: builder().model(GptModel.load(dir, device))");
        }
        return new Chats(model, maxTokens, temperature, seed, name);
    }
}
