package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * What to compute: kernel launches in order, and which arrays cross between host and device. A backend compiles
 * it once per shape ({@link Backend#compile}) and runs it many times. Every other array a launch touches lives only
 * on the device, uninitialised until a launch writes it.
 */
public final class Program {

    final String name;
    final List<Launch> launches = new ArrayList<>();
    /** Kept on the device: copied in on the first run only (weights, optimizer state). */
    final Set<Object> state = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Copied in before every run (a batch's tokens, a step's learning rate). */
    final Set<Object> inputs = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Copied out after every run (the loss). */
    final Set<Object> outputs = Collections.newSetFromMap(new IdentityHashMap<>());

    /** @param name a Java identifier: TornadoVM names the task graph and its kernels after it */
    public Program(String name) {
        if (!name.matches("[A-Za-z][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("program name must be an identifier: " + name);
        }
        this.name = name;
    }

    public Program add(Launch launch) {
        launches.add(launch);
        return this;
    }

    public Program state(Object... arrays) {
        Collections.addAll(state, arrays);
        return this;
    }

    public Program inputs(Object... arrays) {
        Collections.addAll(inputs, arrays);
        return this;
    }

    public Program outputs(Object... arrays) {
        Collections.addAll(outputs, arrays);
        return this;
    }

    public String name() {
        return name;
    }

    public List<Launch> launches() {
        return Collections.unmodifiableList(launches);
    }
}
