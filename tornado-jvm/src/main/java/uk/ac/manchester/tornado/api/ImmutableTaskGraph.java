package uk.ac.manchester.tornado.api;

import dev.tgpt.tornadojvm.GraphSpec;

/** A task graph frozen by {@link TaskGraph#snapshot()}, ready for an execution plan. */
public class ImmutableTaskGraph {

    final GraphSpec spec;

    ImmutableTaskGraph(GraphSpec spec) {
        this.spec = spec;
    }
}
