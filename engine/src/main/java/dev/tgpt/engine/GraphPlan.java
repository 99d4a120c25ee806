package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tgpt.engine.ops.FillOps;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * How a session's programs become TornadoVM task graphs that fit TornadoVM 5.2's limits: at most {@link #MAX_NODES}
 * nodes in a graph (its TornadoGraph cannot grow: "resize not implemented") and {@link #MAX_CODE_BYTES} bytes of a
 * graph's high-level code (a fixed buffer, 15 + 5·arguments bytes a task). A program too big for one graph is cut
 * into consecutive graphs, filled greedily in launch order.
 *
 * <p>Graphs hand arrays on through persistOnDevice/consumeFromDevice. TornadoVM 5.2 takes a consumed buffer from
 * the graph that ran last, whatever graph the consumer names (#996), and fails on a buffer that graph did not have
 * (#768). So every array that more than one launch touches, and every program's state, inputs and outputs, is
 * {@link #shared}: every graph of the session consumes it (or streams it in) and persists it, whether its tasks use
 * it or not, so any graph may follow any other. An array one launch alone touches stays in that launch's graph.
 *
 * <p>{@link #nodes} counts what TornadoVM's TornadoGraphBuilder adds for a graph, with one upper bound: TornadoVM
 * adds a DependentReadNode for each argument its sketcher finds written, and the engine counts every array
 * argument as written (a KernelContext never is).
 */
final class GraphPlan {

    static final int MAX_NODES = Integer.getInteger("tgpt.tornado.maxNodes", 1024);
    static final int MAX_CODE_BYTES = 8192;

    /** A launch's tasks under its task id. */
    record Step(Launch launch, String id, List<Tasks.Call> calls) {
    }

    /**
     * One task graph: some of a program's launches (or an upload's marker), the shared arrays it consumes and those
     * it streams in every run (together: every shared array; for an upload, those uploaded so far), and the host code
     * ({@link Launch#host}) the program runs before and after the graph (a graph ends where host code comes).
     */
    record Chunk(String name, List<Step> steps, List<Object> consume, List<Object> streamIn, List<Launch> before, List<Launch> after) {

        Chunk(String name, List<Step> steps, List<Object> consume, List<Object> streamIn) {
            this(name, steps, consume, streamIn, List.of(), List.of());
        }
    }

    /** The tasks a launch adds, recorded with a stand-in context (every graph has one KernelContext of its own). */
    static final KernelContext PLANNING_CONTEXT = new KernelContext();

    final List<Object> shared;
    final List<Chunk> uploads = new ArrayList<>();
    final Map<Program, List<Chunk>> chunks = new IdentityHashMap<>();
    /** Per program, its host code by the number of kernel launches before it. */
    private final Map<Program, Map<Integer, List<Launch>>> hosts = new IdentityHashMap<>();

    GraphPlan(Program... programs) {
        Map<Program, List<Step>> steps = new IdentityHashMap<>();
        Map<Object, Integer> uses = new IdentityHashMap<>();
        Set<String> names = new HashSet<>();
        // identity, in a stable order: declared arrays first, then those several launches touch
        List<Object> list = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Program p : programs) {
            if (!names.add(p.name)) {
                throw new IllegalArgumentException("two programs of one session are named " + p.name);
            }
            List<Step> mine = new ArrayList<>();
            Map<Integer, List<Launch>> host = new java.util.HashMap<>();
            hosts.put(p, host);
            for (int i = 0; i < p.launches.size(); i++) {
                Launch l = p.launches.get(i);
                if (l.isHost()) {
                    host.computeIfAbsent(mine.size(), k -> new ArrayList<>()).add(l);
                    continue;
                }
                String id = l.name() + "_" + i;
                Step s = new Step(l, id, record(l, id, PLANNING_CONTEXT));
                mine.add(s);
                Set<Object> touched = Collections.newSetFromMap(new IdentityHashMap<>());
                for (Object a : s.calls.get(0).args()) {
                    if (isArray(a)) {
                        touched.add(a);
                    }
                }
                touched.forEach(a -> uses.merge(a, 1, Integer::sum));
            }
            steps.put(p, mine);
            for (Set<Object> set : List.of(p.state, p.inputs, p.outputs)) {
                for (Object o : set) {
                    if (seen.add(Slab.device(o))) {
                        list.add(Slab.device(o));
                    }
                }
            }
        }
        for (Program p : programs) {
            for (Step s : steps.get(p)) {
                for (Object a : s.calls.get(0).args()) {
                    if (isArray(a) && uses.get(a) > 1 && seen.add(a)) {
                        list.add(a);
                    }
                }
            }
        }
        this.shared = List.copyOf(list);
        planUploads();
        for (Program p : programs) {
            chunks.put(p, cut(p, steps.get(p)));
        }
    }

    /** Records the tasks a launch adds; a slab view among their arguments is an error (it needs baseOf/offsetOf). */
    static List<Tasks.Call> record(Launch l, String id, KernelContext context) {
        List<Tasks.Call> calls = Tasks.calls(l, id, context);
        if (calls.size() != 1) {
            throw new IllegalStateException("launch " + l.name() + " adds " + calls.size() + " tasks; a launch is one task");
        }
        for (Object a : calls.get(0).args()) {
            if (Slab.isView(a)) {
                throw new IllegalStateException("launch " + l.name() + " passes a slab view to a TornadoVM task: it would get a "
                        + "device buffer of its own; pass Slab.baseOf(view) and Slab.offsetOf(view)");
            }
        }
        return calls;
    }

    static boolean isArray(Object a) {
        return a != null && !(a instanceof KernelContext) && !(a instanceof Number) && !(a instanceof Boolean) && !(a instanceof Character);
    }

    /** Upload graphs: each streams in a share of the shared arrays once and consumes those uploaded before it. */
    private void planUploads() {
        int from = 0;
        int k = 0;
        while (from < shared.size()) {
            // TornadoVM fails a graph with no task: each upload fills a one-element marker
            Launch fill = FillOps.fill(new FloatArray(1), 1f);
            Step marker = new Step(fill, "marker", record(fill, "marker", PLANNING_CONTEXT));
            int to = from;
            while (to < shared.size() && uploadNodes(from, to + 1, marker) <= MAX_NODES) {
                to++;
            }
            if (to == from) {
                throw new UserError("this model hands " + shared.size() + " arrays from task graph to task graph; TornadoVM 5.2 holds at most "
                        + MAX_NODES + " nodes in a graph, so it cannot upload them: use fewer layers");
            }
            uploads.add(new Chunk("upload" + (k == 0 ? "" : "_" + k), List.of(marker), shared.subList(0, from), shared.subList(from, to)));
            from = to;
            k++;
        }
    }

    /** An upload graph's nodes: consumed arrays (1 each), streamed-in arrays no task uses (3 each), the marker task. */
    private int uploadNodes(int from, int to, Step marker) {
        Estimate e = new Estimate(shared.subList(0, from));
        e.add(marker);
        return e.nodes() + 3 * (to - from);
    }

    private List<Chunk> cut(Program p, List<Step> steps) {
        Map<Integer, List<Launch>> host = hosts.get(p);
        if (steps.isEmpty() && !host.isEmpty()) {
            throw new IllegalStateException("program " + p.name + " has host code and no kernel: run the code on the host");
        }
        if (steps.isEmpty()) {
            // a program of inputs alone puts host arrays onto the device (ZeRO's gathered parameters), as an upload does
            Set<Object> in = Collections.newSetFromMap(new IdentityHashMap<>());
            p.inputs.forEach(o -> in.add(Slab.device(o)));
            Launch fill = FillOps.fill(new FloatArray(1), 1f);
            Step marker = new Step(fill, "marker", record(fill, "marker", PLANNING_CONTEXT));
            return List.of(new Chunk(p.name, List.of(marker), shared.stream().filter(o -> !in.contains(o)).toList(), List.copyOf(in)));
        }
        List<Chunk> out = new ArrayList<>();
        int from = 0;
        while (from < steps.size()) {
            Estimate e = new Estimate(shared);
            int to = from;
            while (to < steps.size() && (to == from || !host.containsKey(to))) {
                Estimate next = e.copy();
                next.add(steps.get(to));
                if (next.nodes() > MAX_NODES || next.codeBytes > MAX_CODE_BYTES) {
                    break;
                }
                e = next;
                to++;
            }
            if (to == from) {
                Estimate alone = new Estimate(shared);
                alone.add(steps.get(from));
                throw new UserError("program " + p.name + ": launch " + steps.get(from).id + " needs " + alone.nodes() + " task-graph nodes, "
                        + shared.size() + " of them for the arrays this model hands between graphs; TornadoVM 5.2 holds at most " + MAX_NODES
                        + ": use fewer layers");
            }
            List<Object> streamIn = firstUses(p, steps, from, to);
            Set<Object> streamed = Collections.newSetFromMap(new IdentityHashMap<>());
            streamed.addAll(streamIn);
            List<Object> consume = shared.stream().filter(o -> !streamed.contains(o)).toList();
            out.add(new Chunk(p.name + "_" + out.size(), List.copyOf(steps.subList(from, to)), consume, streamIn,
                    from == 0 ? host.getOrDefault(0, List.of()) : List.of(), host.getOrDefault(to, List.of())));
            from = to;
        }
        if (out.size() == 1) {
            Chunk only = out.get(0);
            out.set(0, new Chunk(p.name, only.steps, only.consume, only.streamIn, only.before, only.after));
        }
        return out;
    }

    /** The program's inputs whose first use in the program is a launch in from..to-1: that graph streams them in. */
    private static List<Object> firstUses(Program p, List<Step> steps, int from, int to) {
        Set<Object> inputs = Collections.newSetFromMap(new IdentityHashMap<>());
        p.inputs.forEach(o -> inputs.add(Slab.device(o)));
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> here = new ArrayList<>();
        for (int i = 0; i < to; i++) {
            for (Object a : steps.get(i).calls.get(0).args()) {
                if (inputs.contains(a) && seen.add(a) && i >= from) {
                    here.add(a);
                }
            }
        }
        return here;
    }

    /** TornadoVM's graph nodes and code bytes for a graph that consumes or streams in {@code shared}, as tasks are added. */
    static final class Estimate {
        private final Set<Object> objects;
        private final Set<Object> used;
        private final Set<Object> constants;
        private int tasks;
        private int objectArgs;
        int codeBytes;

        Estimate(List<Object> shared) {
            objects = Collections.newSetFromMap(new IdentityHashMap<>());
            objects.addAll(shared);
            used = Collections.newSetFromMap(new IdentityHashMap<>());
            constants = new HashSet<>();
        }

        private Estimate(Estimate e) {
            objects = Collections.newSetFromMap(new IdentityHashMap<>());
            objects.addAll(e.objects);
            used = Collections.newSetFromMap(new IdentityHashMap<>());
            used.addAll(e.used);
            constants = new HashSet<>(e.constants);
            tasks = e.tasks;
            objectArgs = e.objectArgs;
            codeBytes = e.codeBytes;
        }

        Estimate copy() {
            return new Estimate(this);
        }

        void add(Step s) {
            for (Tasks.Call c : s.calls) {
                tasks++;
                codeBytes += 15 + 5 * c.args().length;
                for (Object a : c.args()) {
                    if (a instanceof Number || a instanceof Boolean || a instanceof Character) {
                        constants.add(a);
                    } else {
                        objects.add(a);
                        used.add(a);
                        // TornadoVM never finds a KernelContext written: its reads are replaced before the analysis
                        objectArgs += a instanceof KernelContext ? 0 : 1;
                    }
                }
            }
        }

        /**
         * One node per constant and per object, one context node, two per task (its buffer list and itself), two
         * per object a task uses (its first use: copy-in, allocation or on-device; and its persist or deallocate at
         * the end) and one per array argument (a DependentReadNode, if TornadoVM finds it written: counted always).
         */
        int nodes() {
            return constants.size() + objects.size() + (tasks > 0 ? 1 : 0) + 2 * tasks + 2 * used.size() + objectArgs;
        }
    }
}
