package dev.tgpt.rlhf.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.UserError;

class RlhfDataTest {

    @TempDir
    Path dir;

    private Path file(String... lines) throws IOException {
        Path f = dir.resolve("data.jsonl");
        Files.writeString(f, String.join("\n", lines));
        return f;
    }

    @Test
    void readsDemonstrationsSkippingBlankLinesAndOtherFields() throws Exception {
        Path f = file("{\"prompt\": \"ROMEO:\\n\", \"completion\": \"O sweet love.\\n\"}", "", "   ",
                "{\"prompt\": \"Q\", \"completion\": \"\", \"source\": \"x\"}", "");
        assertEquals(List.of(new Demonstration("ROMEO:\n", "O sweet love.\n"), new Demonstration("Q", "")), RlhfData.demonstrations(f));
    }

    @Test
    void readsPairsAndRankingsMixedInOneFile() throws Exception {
        Path f = file("{\"prompt\": \"p\", \"chosen\": \"good\", \"rejected\": \"bad\"}",
                "{\"prompt\": \"q\", \"ranking\": [\"a\", \"b\", \"c\", \"d\"]}",
                "{\"prompt\": \"r\", \"ranking\": [\"same\", \"same\"]}",
                "{\"prompt\": \"s\", \"ranking\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]}");
        List<Comparison> c = RlhfData.comparisons(f);
        assertEquals(new Comparison("p", List.of("good", "bad")), c.get(0));
        assertEquals(new Comparison("q", List.of("a", "b", "c", "d")), c.get(1));
        assertEquals(new Comparison("r", List.of("same", "same")), c.get(2), "a ranking may repeat a response");
        assertEquals(9, c.get(3).ranking().size());
    }

    @Test
    void readsPrompts() throws Exception {
        assertEquals(List.of("ROMEO:\n", "JULIET:\n"), RlhfData.prompts(file("{\"prompt\": \"ROMEO:\\n\"}", "{\"prompt\": \"JULIET:\\n\"}")));
    }

    @Test
    void writesWhatItReadsAtomically() throws Exception {
        List<Demonstration> d = List.of(new Demonstration("ROMEO:\n", "Line one\n\"quoted\" \u00e9\n"), new Demonstration("a", ""));
        List<Comparison> c = List.of(new Comparison("p", List.of("x", "y")), new Comparison("q", List.of("1", "2", "3")));
        List<String> p = List.of("ROMEO:\n", "JULIET:\n");
        Path sub = dir.resolve("out");
        RlhfData.writeDemonstrations(sub.resolve("sft.jsonl"), d);
        RlhfData.writeComparisons(sub.resolve("rm.jsonl"), c);
        RlhfData.writePrompts(sub.resolve("ppo.jsonl"), p);
        RlhfData.writePrompts(sub.resolve("ppo.jsonl"), p); // replaces the file
        assertEquals(d, RlhfData.demonstrations(sub.resolve("sft.jsonl")));
        assertEquals(c, RlhfData.comparisons(sub.resolve("rm.jsonl")));
        assertEquals(p, RlhfData.prompts(sub.resolve("ppo.jsonl")));
        assertEquals(2, Files.readAllLines(sub.resolve("sft.jsonl")).size(), "one example a line, newlines escaped");
        assertEquals("{\"prompt\":\"p\",\"ranking\":[\"x\",\"y\"]}", Files.readAllLines(sub.resolve("rm.jsonl")).get(0),
                "pairs are written in the ranking form");
        try (Stream<Path> files = Files.list(sub)) {
            assertEquals(3, files.count(), "no temporary files left behind");
        }
    }

    static Stream<Arguments> mistakes() {
        Function<Path, ?> sft = RlhfData::demonstrations;
        Function<Path, ?> rm = RlhfData::comparisons;
        Function<Path, ?> ppo = RlhfData::prompts;
        String ok = "{\"prompt\": \"p\", \"completion\": \"c\"}";
        String pair = "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}";
        return Stream.of(
                Arguments.of(sft, new String[] { "" }, "data.jsonl holds no examples"),
                Arguments.of(rm, new String[] { "", "  ", "" }, "data.jsonl holds no examples"),
                Arguments.of(sft, new String[] { ok, "", "{\"prompt\": \"p\", " }, "data.jsonl:3: not JSON"),
                Arguments.of(ppo, new String[] { "{\"prompt\": \"a\"} {\"prompt\": \"b\"}" }, "data.jsonl:1: not JSON"),
                Arguments.of(ppo, new String[] { "[\"prompt\"]" }, "data.jsonl:1: expected a JSON object, found array"),
                Arguments.of(sft, new String[] { ok, "{\"prompt\": \"p\"}" }, "data.jsonl:2: no \"completion\""),
                Arguments.of(sft, new String[] { "{\"completion\": \"c\"}" }, "data.jsonl:1: no \"prompt\""),
                Arguments.of(sft, new String[] { ok, ok, "{\"prompt\": \"p\", \"completion\": 3}" }, "data.jsonl:3: \"completion\" is not a string"),
                Arguments.of(ppo, new String[] { "{\"prompt\": null}" }, "data.jsonl:1: \"prompt\" is not a string"),
                Arguments.of(ppo, new String[] { "{\"prompt\": \"a\"}", "{\"prompt\": \"\"}" }, "data.jsonl:2: the prompt is empty"),
                Arguments.of(sft, new String[] { "{\"prompt\": \"\", \"completion\": \"c\"}" }, "data.jsonl:1: the prompt is empty"),
                Arguments.of(rm, new String[] { pair, "{\"prompt\": \"p\", \"chosen\": \"a\"}" }, "data.jsonl:2: no \"rejected\""),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"chosen\": [\"a\"], \"rejected\": \"b\"}" },
                        "data.jsonl:1: \"chosen\" is not a string"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"responses\": [\"a\", \"b\"]}" },
                        "data.jsonl:1: expected \"chosen\" and \"rejected\", or a \"ranking\""),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"ranking\": [\"a\", \"b\"], \"chosen\": \"a\"}" },
                        "data.jsonl:1: has both \"ranking\" and \"chosen\"/\"rejected\""),
                Arguments.of(rm, new String[] { pair, "{\"prompt\": \"p\", \"ranking\": [\"a\"]}" }, "data.jsonl:2: \"ranking\" has 1 responses"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"ranking\": []}" }, "data.jsonl:1: \"ranking\" has 0 responses"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"ranking\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\"]}" },
                        "data.jsonl:1: \"ranking\" has 10 responses: rank 2 to 9"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"ranking\": \"a\"}" }, "data.jsonl:1: \"ranking\" must be an array"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"p\", \"ranking\": [\"a\", 2]}" }, "data.jsonl:1: \"ranking\"'s response 2 is not a string"),
                Arguments.of(rm, new String[] { "{\"prompt\": \"\", \"ranking\": [\"a\", \"b\"]}" }, "data.jsonl:1: the prompt is empty"));
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void namesTheFileAndLineOfAMistake(Function<Path, ?> reader, String[] lines, String message) throws Exception {
        Path f = file(lines);
        UserError e = assertThrows(UserError.class, () -> reader.apply(f));
        // the messages above are written for a file named data.jsonl; the real one is in a temporary directory
        assertTrue(e.getMessage().startsWith(f + message.substring("data.jsonl".length())), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line");
    }

    @Test
    void aMissingFileIsAUserError() {
        Path missing = dir.resolve("missing.jsonl");
        assertEquals(missing + ": no such file", assertThrows(UserError.class, () -> RlhfData.prompts(missing)).getMessage());
        assertThrows(UserError.class, () -> RlhfData.demonstrations(missing));
        assertThrows(UserError.class, () -> RlhfData.comparisons(missing));
    }

    @Test
    void aComparisonHoldsTwoToNineResponses() {
        assertThrows(IllegalArgumentException.class, () -> new Comparison("p", List.of("a")));
        assertThrows(IllegalArgumentException.class, () -> new Comparison("p", List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")));
        assertThrows(IllegalArgumentException.class, () -> RlhfData.writePrompts(dir.resolve("x.jsonl"), List.of("")));
    }
}
