package uk.ac.manchester.tornado.api;

import dev.tgpt.tornadojvm.GraphSpec;

/** Test access to what a task graph recorded (the API keeps it package-private, as TornadoVM has no such accessor). */
public final class GraphSpecs {

    private GraphSpecs() {
    }

    public static GraphSpec of(TaskGraph graph) {
        return graph.snapshot().spec;
    }
}
