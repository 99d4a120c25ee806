package dev.tgpt.gpt;

import java.util.List;

/**
 * How chat messages become one prompt for a base GPT model (`./tgpt serve` and the LangChain4j models use it), which was not trained on any chat format: a system
 * message as a paragraph of its own, then each turn on its own line after its speaker, then "Assistant:" for the
 * model to continue; generation stops where the model starts the user's next turn.
 *
 * <pre>
 * {system}
 *
 * User: {user}
 * Assistant: {assistant}
 * User: {user}
 * Assistant:
 * </pre>
 */
public final class ChatTemplate {

    /** A chat message: role is system, user or assistant. */
    public record Message(String role, String content) {
    }

    /** Where a reply ends: the model begins the user's next turn. */
    public static final String STOP = "\nUser:";

    private ChatTemplate() {
    }

    public static String render(List<Message> messages) {
        StringBuilder s = new StringBuilder();
        for (Message m : messages) {
            switch (m.role()) {
                case "system" -> s.append(m.content()).append("\n\n");
                case "user" -> s.append("User: ").append(m.content()).append('\n');
                case "assistant" -> s.append("Assistant: ").append(m.content()).append('\n');
                default -> throw new IllegalArgumentException(m.role());
            }
        }
        return s.append("Assistant:").toString();
    }
}
