package dev.tgpt.tornadojvm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a TaskGraph recorded: its tasks in order, and which objects move when. */
public final class GraphSpec {

    /** A kernel with its arguments spread out as an array. */
    @FunctionalInterface
    public interface Kernel {
        void run(Object[] args);
    }

    /** One task: its id, its kernel and the arguments captured when it was defined. */
    public record TaskSpec(String id, Kernel kernel, Object[] args) {
    }

    public final String name;
    public final List<TaskSpec> tasks = new ArrayList<>();
    public final List<Object> toDeviceFirst = new ArrayList<>();
    public final List<Object> toDeviceEvery = new ArrayList<>();
    public final List<Object> toHostEvery = new ArrayList<>();
    public final List<Object> toHostOnDemand = new ArrayList<>();
    public final Set<Object> persisted = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Consumed object, and the name of the graph it comes from (null: whichever persisted it). */
    public final Map<Object, String> consumed = new IdentityHashMap<>();

    public GraphSpec(String name) {
        this.name = name;
    }

    public GraphSpec copy() {
        GraphSpec c = new GraphSpec(name);
        c.tasks.addAll(tasks);
        c.toDeviceFirst.addAll(toDeviceFirst);
        c.toDeviceEvery.addAll(toDeviceEvery);
        c.toHostEvery.addAll(toHostEvery);
        c.toHostOnDemand.addAll(toHostOnDemand);
        c.persisted.addAll(persisted);
        c.consumed.putAll(consumed);
        return c;
    }
}
