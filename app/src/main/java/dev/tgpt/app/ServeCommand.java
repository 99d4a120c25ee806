package dev.tgpt.app;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.tgpt.engine.Backend;
import dev.tgpt.gpt.ChatTemplate;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.MemoryPlan;
import dev.tgpt.gpt.io.Checkpoint;
import dev.tgpt.serve.Server;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Serves a model over HTTP in the OpenAI API's shape: GET /v1/models, POST /v1/completions and /v1/chat/completions "
                + "(\"stream\": true for server-sent events), GET /health. Concurrent requests share each decoding step (continuous batching).",
                "SIGTERM (Ctrl-C) stops taking requests, finishes those in flight, then exits." })
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Mixin
    PlanOption plan;

    @Mixin
    WeightsOption weights;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A checkpoint directory, a Hugging Face GPT-2 directory, or llm.c's model file.")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "The address to listen on. Default: ${DEFAULT-VALUE} (this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Default: ${DEFAULT-VALUE}; 0: any free port.")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Requests must send \"Authorization: Bearer KEY\" (all but /health).")
    String apiKey;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8", description = "Sequences decoded together. Default: ${DEFAULT-VALUE}.")
    int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64", description = "Requests that may wait for a slot; more get 429. Default: ${DEFAULT-VALUE}.")
    int maxQueue;

    @Override
    public Integer call() throws Exception {
        if (maxBatch < 1 || maxQueue < 1 || port < 0 || port > 65535) {
            throw new dev.tgpt.engine.UserError("--max-batch and --max-queue must be at least 1, and --port in 0..65535");
        }
        Backend backend = device.backend();
        GptConfig config = Checkpoint.header(model).config();
        ChatTemplate template = ChatTemplate.of(model);
        plan.show("", MemoryPlan.weights(config).plus(weights.plan(config)).plus(MemoryPlan.decoding(config, maxBatch)), backend,
                "use a smaller --max-batch (each sequence keeps a KV cache of the whole context), or a smaller model");
        if (plan.dryRun()) {
            return 0;
        }
        Checkpoint ckpt = Checkpoint.load(model);
        if (ckpt.tokenizer() == null) {
            throw new dev.tgpt.engine.UserError(model + " names no tokenizer, so requests' texts cannot be encoded");
        }
        // runs/shakespeare/checkpoint is "shakespeare"; a Hugging Face directory or a model file goes by its own name
        Path path = model.toAbsolutePath().normalize();
        String name = (path.getFileName().toString().equals("checkpoint") && path.getParent() != null ? path.getParent() : path).getFileName()
                .toString();
        Server server = Server.start(weights.model(ckpt), ckpt.tokenizer(), backend,
                Server.Options.defaults().host(host).port(port).apiKey(apiKey).maxBatch(maxBatch).maxQueue(maxQueue).modelName(name)
                        .chatTemplate(template));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("tgpt serve: stopping; finishing the " + server.inFlight() + " requests in flight");
            server.close();
            stopped.countDown();
        }));
        var err = spec.commandLine().getErr();
        err.printf("serving %s on http://%s:%d/v1 (device %s, batch %d, %s weights, chat template %s)%n", name, host, server.port(),
                backend.info().id(), maxBatch, weights.format(), template.equals(ChatTemplate.BASE) ? "tgpt's base one" : "from " + model.resolve(ChatTemplate.FILE));
        err.flush();
        stopped.await();
        return 0;
    }
}
