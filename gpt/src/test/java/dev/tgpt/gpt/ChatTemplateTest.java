package dev.tgpt.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tgpt.engine.UserError;

class ChatTemplateTest {

    @TempDir
    Path dir;

    static final List<ChatTemplate.Message> CHAT = List.of(new ChatTemplate.Message("system", "be brief"), new ChatTemplate.Message("user", "hi"),
            new ChatTemplate.Message("assistant", "hello"), new ChatTemplate.Message("user", "{content}?"));

    @Test
    void theBaseTemplateIsTheDocumentedOne() {
        assertEquals("be brief\n\nUser: hi\nAssistant: hello\nUser: {content}?\nAssistant:", ChatTemplate.BASE.render(CHAT));
        assertEquals("\nUser:", ChatTemplate.BASE.stop());
        assertSame(ChatTemplate.BASE, ChatTemplate.of(dir), "a directory without chat_template.json");
        assertSame(ChatTemplate.BASE, ChatTemplate.of(dir.resolve("model.bin")), "a model file");
    }

    @Test
    void aCheckpointsFileOverridesIt() throws Exception {
        Files.writeString(dir.resolve(ChatTemplate.FILE), """
                {"system": "<|system|>{content}\\n", "user": "<|user|>{content}\\n", "assistant": "<|assistant|>{content}<|end|>\\n",
                 "generation": "<|assistant|>", "stop": "<|end|>"}""");
        ChatTemplate t = ChatTemplate.of(dir);
        assertEquals("<|system|>be brief\n<|user|>hi\n<|assistant|>hello<|end|>\n<|user|>{content}?\n<|assistant|>", t.render(CHAT));
        assertEquals("<|end|>", t.stop());
    }

    @Test
    void aBadFileIsTheUsersMistakeNamed() throws Exception {
        Path f = dir.resolve(ChatTemplate.FILE);
        String good = "\"system\": \"{content}\", \"user\": \"U {content}\", \"assistant\": \"A {content}\", \"generation\": \"A\", \"stop\": \"U\"";
        for (String[] c : new String[][] { { "{\"system\": ", "not valid JSON" }, { "[]", "must be a JSON object" },
                { "{" + good.replace("\"U {content}\"", "\"U\"") + "}", "\"user\" must contain {content}" },
                { "{" + good.replace(", \"stop\": \"U\"", "") + "}", "lacks \"stop\"" },
                { "{" + good + ", \"tools\": \"x\"}", "\"tools\" is not one of" }, { "{" + good.replace("\"A\"", "1") + "}", "\"generation\" is not one of" },
                { "{" + good.replace("\"stop\": \"U\"", "\"stop\": \"\"") + "}", "\"stop\" must not be empty" } }) {
            Files.writeString(f, c[0]);
            UserError e = assertThrows(UserError.class, () -> ChatTemplate.of(dir), c[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
