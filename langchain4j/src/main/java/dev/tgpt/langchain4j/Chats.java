package dev.tgpt.langchain4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import dev.tgpt.gpt.ChatTemplate;
import dev.tgpt.gpt.GptModel;
import dev.tgpt.gpt.Sampler;

/** A request as a prompt and sampling options, its generation as a response: what the three models share. */
final class Chats {

    private final GptModel model;
    private final int maxTokens;
    private final double temperature;
    private final long seed;
    private final String name;

    Chats(GptModel model, int maxTokens, double temperature, long seed, String name) {
        this.model = model;
        this.maxTokens = maxTokens;
        this.temperature = temperature;
        this.seed = seed;
        this.name = name;
    }

    /** A chat request's reply; {@code partial} hears its text as it grows (a leading space left out). */
    ChatResponse chat(ChatRequest r, Consumer<String> partial) {
        String prompt = prompt(model.chatTemplate(), r.messages());
        List<String> stop = new ArrayList<>(r.stopSequences() == null ? List.of() : r.stopSequences());
        stop.add(model.chatTemplate().stop());
        boolean[] started = { false };
        GptModel.Generation g = generate(prompt, r.maxOutputTokens(), r.temperature(), r.topP(), r.topK(), stop, text -> {
            String t = started[0] ? text : text.stripLeading();
            started[0] |= !t.isEmpty();
            partial.accept(t);
        });
        return ChatResponse.builder().aiMessage(AiMessage.from(g.text().stripLeading())).modelName(name).tokenUsage(usage(g))
                .finishReason(finish(g)).build();
    }

    Response<String> complete(String prompt) {
        GptModel.Generation g = generate(prompt, null, null, null, null, List.of(), text -> {
        });
        return Response.from(g.text(), usage(g), finish(g));
    }

    /** Calls take turns on the model; a request's settings over the defaults, its length within the context. */
    private GptModel.Generation generate(String prompt, Integer max, Double temp, Double topP, Integer topK, List<String> stop,
            Consumer<String> partial) {
        synchronized (model) {
            int room = model.config().context() - model.tokenizer().encode(prompt).length;
            Sampler.Options o = new Sampler.Options(Math.max(0, Math.min(max != null ? max : maxTokens, room)),
                    (float) (temp != null ? temp : temperature), topK != null ? topK : 0, (float) (topP != null ? topP : 1), stop, seed);
            return model.generate(prompt, o, partial);
        }
    }

    /** The messages as one prompt, by the model's chat template. */
    static String prompt(ChatTemplate template, List<ChatMessage> messages) {
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            out.add(switch (m) {
                case SystemMessage s -> new ChatTemplate.Message("system", s.text());
                case UserMessage u when u.hasSingleText() -> new ChatTemplate.Message("user", u.singleText());
                case AiMessage a when a.text() != null -> new ChatTemplate.Message("assistant", a.text());
                default -> throw new IllegalArgumentException("tgpt's models read text only, not this " + m.type() + " message");
            });
        }
        return template.render(out);
    }

    private static TokenUsage usage(GptModel.Generation g) {
        return new TokenUsage(g.promptTokens(), g.completionTokens());
    }

    private static FinishReason finish(GptModel.Generation g) {
        return "length".equals(g.finishReason()) ? FinishReason.LENGTH : FinishReason.STOP;
    }
}
