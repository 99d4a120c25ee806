package dev.tgpt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs bench/python/torch_bench.py (carried in the jar) on the same cases and protocol, in a Python that has PyTorch,
 * and reads its timings back as results of impl "pytorch".
 */
public final class Torch {

    private static final List<String> SCRIPTS = List.of("torch_bench.py", "torch_kernels.py", "torch_models.py");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Torch() {
    }

    /** Why PyTorch cannot run under this python, or null if it can. */
    public static String unavailable(String python) {
        return failure(python, "import torch", "cannot import torch");
    }

    /** Why PyTorch has no CUDA device under this python, or null if it has one. */
    public static String cudaUnavailable(String python) {
        return failure(python, "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)", "has no CUDA device through PyTorch");
    }

    private static String failure(String python, String code, String what) {
        try {
            Process p = new ProcessBuilder(python, "-c", code).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? null : python + " " + what + " (" + lastLine(out) + ")";
        } catch (IOException e) {
            return "no " + python + " on PATH";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * @param device "cpu" or "cuda"
     * @param work   a directory for the scripts, the cases and PyTorch's results
     * @param log    where PyTorch's progress lines go
     */
    public static List<Result> run(String python, List<Case> cases, String device, int threads, Protocol protocol, Peaks peaks, Path work,
            java.util.function.Consumer<String> log) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("python"));
        for (String s : SCRIPTS) {
            try (InputStream in = Torch.class.getResourceAsStream("python/" + s)) {
                Files.copy(in, dir.resolve(s), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path casesFile = work.resolve("torch-cases-" + device + ".json");
        Path resultsFile = work.resolve("torch-results-" + device + ".json");
        JSON.writeValue(casesFile.toFile(), cases.stream().map(c -> Map.of("kind", c.kind(), "name", c.name(), "params", c.params())).toList());
        List<String> cmd = new ArrayList<>(List.of(python, dir.resolve("torch_bench.py").toString(), "--cases", casesFile.toString(), "--device",
                device, "--threads", Integer.toString(threads), "--out", resultsFile.toString()));
        cmd.addAll(List.of(protocol.pythonArgs()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder tail = new StringBuilder();
        try (var lines = p.inputReader().lines()) {
            lines.forEach(line -> {
                log.accept(line);
                tail.append(line).append('\n');
            });
        }
        if (p.waitFor() != 0) {
            throw new IOException("PyTorch's benchmark failed:\n" + tail.substring(Math.max(0, tail.length() - 2000)));
        }
        List<Map<String, Object>> records = JSON.readValue(resultsFile.toFile(), new TypeReference<>() {
        });
        List<Result> out = new ArrayList<>();
        for (Map<String, Object> r : records) {
            @SuppressWarnings("unchecked")
            Map<String, Integer> params = (Map<String, Integer>) r.get("params");
            Case c = cases.stream().filter(k -> k.sameAs((String) r.get("name"), params)).findFirst()
                    .orElseThrow(() -> new IOException("PyTorch timed a case that was not asked for: " + r.get("name") + " " + params));
            Stats s = new Stats(((Number) r.get("runs")).intValue(), num(r, "median_ms"), num(r, "p25_ms"), num(r, "p75_ms"), num(r, "min_ms"),
                    num(r, "max_ms"));
            out.add(Result.of(c, "pytorch", device, (String) r.get("device_name"), s, peaks, (String) r.get("note")));
        }
        return out;
    }

    private static double num(Map<String, Object> r, String key) {
        return ((Number) r.get(key)).doubleValue();
    }

    private static String lastLine(String s) {
        return s.isEmpty() ? "no output" : s.substring(s.lastIndexOf('\n') + 1);
    }
}
