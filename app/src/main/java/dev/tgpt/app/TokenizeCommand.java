package dev.tgpt.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.tgpt.engine.UserError;
import dev.tgpt.gpt.data.CharTokenizer;
import dev.tgpt.gpt.data.Dataset;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import dev.tgpt.gpt.data.TokenFile;
import dev.tgpt.gpt.data.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = { "Turns a text into llm.c token files: OUT/train.bin and OUT/val.bin (90/10 split), and OUT/tokenizer.json.",
                "Train on them with: ./tgpt train --data OUT/train.bin --val OUT/val.bin" })
final class TokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TEXT", description = "A UTF-8 text file.")
    Path text;

    @Option(names = "--tokenizer", defaultValue = "gpt2", description = "gpt2 (GPT-2's BPE) or char. Default: ${DEFAULT-VALUE}.")
    String tokenizer;

    @Option(names = "--out", paramLabel = "DIR", required = true)
    Path out;

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = switch (tokenizer) {
            case "gpt2" -> new Gpt2Tokenizer();
            case "char" -> CharTokenizer.of(Dataset.readText(text));
            default -> throw new UserError("--tokenizer takes gpt2 or char, not " + tokenizer);
        };
        Dataset d = Dataset.fromText(text, tok);
        Files.createDirectories(out);
        TokenFile.write(out.resolve("train.bin"), d.train());
        TokenFile.write(out.resolve("val.bin"), d.val());
        Files.writeString(out.resolve(TrainCommand.TOKENIZER_FILE), tok.describe().toPrettyString());
        spec.commandLine().getOut().printf("%,d training and %,d validation tokens in %s%n", d.train().length, d.val().length, out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
