package dev.tgpt.tornadojvm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;

/**
 * What a TaskGraph recorded: its tasks in order, which objects move when, and how much of TornadoVM's fixed
 * high-level code buffer its tasks took ({@link GraphLimits} counts that and the graph's nodes).
 */
public final class GraphSpec {

    /** A kernel with its arguments spread out as an array. */
    @FunctionalInterface
    public interface Kernel {
        void run(Object[] args);
    }

    /**
     * One task: its id, its kernel and the arguments captured when it was defined. A library task has no kernel but the
     * descriptor of its library call, whose parameters are its arguments.
     */
    public record TaskSpec(String id, Kernel kernel, Object[] args, LibraryTaskDescriptor library) {
    }

    public final String name;
    public final List<TaskSpec> tasks = new ArrayList<>();
    public final List<Object> toDeviceFirst = new ArrayList<>();
    public final List<Object> toDeviceEvery = new ArrayList<>();
    public final List<Object> toHostEvery = new ArrayList<>();
    public final List<Object> toHostOnDemand = new ArrayList<>();
    public final Set<Object> persisted = Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * Consumed object, and the name consumeFromDevice gave (null: none). Either way TornadoVM 5.2.1 takes the buffer
     * from the graph executed last; PlanExecutor fails a name that is not that graph's (TornadoVM #996).
     */
    public final Map<Object, String> consumed = new IdentityHashMap<>();
    /** Bytes of TornadoVM's high-level code the task definitions have written: see {@link GraphLimits}. */
    public int highLevelCodeBytes;

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
        c.highLevelCodeBytes = highLevelCodeBytes;
        return c;
    }
}
