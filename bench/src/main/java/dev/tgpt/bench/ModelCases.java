package dev.tgpt.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import dev.tgpt.engine.Backend;

final class ModelCases {
    static List<Case> cases(boolean quick) { return List.of(); }
    static List<Result> run(Backend b, boolean quick, Protocol p, Peaks peaks, Consumer<String> log) { return List.of(); }
    static Result llmc(Path binary, int threads, Peaks peaks, Consumer<String> log) { return null; }
}
