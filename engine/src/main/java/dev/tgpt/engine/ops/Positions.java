package dev.tgpt.engine.ops;

import java.util.function.IntConsumer;

import dev.tgpt.engine.Launch;

/** Launches of kernels that are one work-item per position (or row, or slot) with a per-item helper the JVM path calls. */
final class Positions {

    private Positions() {
    }

    /**
     * An element-wise launch over N items; on the JVM backend each thread loops over its range calling {@code at}.
     * One call per item (it does not inline across kernels) costs little at N = B·T.
     */
    static Launch of(String name, Launch.Task task, int N, IntConsumer at) {
        return Launch.parallel(name, task, jvm -> jvm.parallelRange(N, (from, to) -> {
            for (int n = from; n < to; n++) {
                at.accept(n);
            }
        }));
    }
}
