package dev.tgpt.gpt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.tgpt.engine.UserError;

class TokenizerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void charVocabularyIsTheSortedDistinctCharacters() {
        CharTokenizer t = CharTokenizer.of("hello");
        assertEquals(4, t.vocabSize());
        assertEquals(-1, t.endOfText());
        assertArrayEquals(new int[] { 1, 0, 2, 2, 3 }, t.encode("hello"), "e h l o");
        assertEquals("olleh", t.decode(new int[] { 3, 2, 2, 0, 1 }));
    }

    @Test
    void charTokensAreCodePointsAsPythonCountsThem() {
        String text = "a😀b\nπ";
        CharTokenizer t = CharTokenizer.of(text);
        assertEquals(5, t.vocabSize());
        assertEquals(5, t.encode(text).length);
        assertEquals(text, t.decode(t.encode(text)));
    }

    @Test
    void charOutsideTheVocabularyIsAUserErrorNamingItAndItsPosition() {
        CharTokenizer t = CharTokenizer.of("abc");
        UserError e = assertThrows(UserError.class, () -> t.encode("ab\nc"));
        assertTrue(e.getMessage().contains("'\\n' (U+000A) at position 2"), e.getMessage());
        e = assertThrows(UserError.class, () -> t.encode("aé"));
        assertTrue(e.getMessage().contains("'é' (U+00E9) at position 1"), e.getMessage());
        e = assertThrows(UserError.class, () -> t.decode(new int[] { 0, 3 }));
        assertTrue(e.getMessage().contains("token 3 at position 1"), e.getMessage());
        assertThrows(UserError.class, () -> t.decode(new int[] { -1 }));
        assertThrows(UserError.class, () -> CharTokenizer.of(""));
    }

    @Test
    void descriptionsRecreateTheTokenizerThroughJson() throws Exception {
        String text = "First Citizen:\nBefore we proceed any further, hear me speak.\t😀\u0000";
        for (Tokenizer t : new Tokenizer[] { CharTokenizer.of(text), new Gpt2Tokenizer() }) {
            String json = JSON.writeValueAsString(t.describe());
            Tokenizer back = Tokenizer.fromDescription(JSON.readTree(json));
            assertEquals(t.getClass(), back.getClass());
            assertEquals(t.vocabSize(), back.vocabSize());
            assertArrayEquals(t.encode(text), back.encode(text));
        }
    }

    @Test
    void badDescriptionsAreUserErrors() throws Exception {
        UserError e = assertThrows(UserError.class, () -> Tokenizer.fromDescription(JSON.readTree("{\"type\": \"sentencepiece\"}")));
        assertTrue(e.getMessage().contains("unknown tokenizer type 'sentencepiece'"), e.getMessage());
        e = assertThrows(UserError.class, () -> Tokenizer.fromDescription(JSON.readTree("{\"type\": \"char\", \"chars\": \"ba\"}")));
        assertTrue(e.getMessage().contains("not sorted and distinct"), e.getMessage());
        assertThrows(UserError.class, () -> Tokenizer.fromDescription(JSON.readTree("{\"type\": \"char\", \"chars\": \"\"}")));
        assertThrows(UserError.class, () -> Tokenizer.fromDescription(JSON.readTree("{}")));
    }

    @Test
    void gpt2MatchesKnownEncodings() {
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        assertEquals(50257, t.vocabSize());
        assertEquals(50256, t.endOfText());
        assertArrayEquals(new int[] { 15496, 995 }, t.encode("Hello world"));
        assertArrayEquals(new int[] { 31373, 995 }, t.encode("hello world"));
        // Plain text: the special token's spelling is just characters.
        assertArrayEquals(new int[] { 27, 91, 437, 1659, 5239, 91, 29 }, t.encode("<|endoftext|>"));
        assertEquals("<|endoftext|>", t.decode(new int[] { 50256 }));
        String text = "Ünïcode, emoji 😀 and\n\twhitespace  ";
        assertEquals(text, t.decode(t.encode(text)));
    }

    @Test
    void gpt2DecodeOutsideTheVocabularyIsAUserError() {
        Gpt2Tokenizer t = new Gpt2Tokenizer();
        UserError e = assertThrows(UserError.class, () -> t.decode(new int[] { 15496, 50257 }));
        assertTrue(e.getMessage().contains("token 50257 at position 1"), e.getMessage());
        assertThrows(UserError.class, () -> t.decode(new int[] { -5 }));
    }
}
