package dev.tgpt.tornadojvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryContext;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryInvocation;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoLibraryProvider;

/**
 * Runs the graphs of one execution plan on the emulated device. A graph is checked against TornadoVM's node limit
 * ({@link GraphLimits}) at its first execution, before any of it runs; a consumeFromDevice that names a graph other
 * than the one executed last fails (TornadoVM #996). A library task goes, in its turn, to its library's provider
 * ({@link LibraryRegistry}), as TornadoVM's interpreter sends it.
 */
public final class PlanExecutor {

    /** CUDA's and most OpenCL GPUs' largest work-group. */
    static final int MAX_WORK_GROUP = 1024;

    /** Nanoseconds spent in the last execution, as a profiler reports them. */
    public record Times(long total, long kernels, long transfers) {
    }

    private final List<GraphSpec> graphs;
    private final long planId;
    private TornadoXPUDevice device;
    /** Each graph's device memory: host object to its device copy. */
    private final Map<GraphSpec, Map<Object, TornadoNativeArray>> memory = new IdentityHashMap<>();
    private final Set<GraphSpec> executed = Collections.newSetFromMap(new IdentityHashMap<>());
    private GridScheduler grids = new GridScheduler();
    private GraphSpec lastExecuted;
    private long transferNanos;

    /** The graphs of the execution plan {@code planId}, which runs them on the runtime's default device until told another. */
    public PlanExecutor(List<GraphSpec> graphs, long planId) {
        Set<String> names = new HashSet<>();
        for (GraphSpec g : graphs) {
            if (!names.add(g.name)) {
                throw new TornadoRuntimeException("two task graphs of one plan are named " + g.name);
            }
            if (g.tasks.isEmpty()) {
                // TornadoVM fails such a graph at its first execution
                throw new TornadoRuntimeException("task graph " + g.name + " has no task");
            }
        }
        this.graphs = List.copyOf(graphs);
        this.planId = planId;
        this.device = (TornadoXPUDevice) JvmRuntime.INSTANCE.getDefaultDevice();
    }

    public void setDevice(TornadoXPUDevice device) {
        this.device = device;
    }

    /** As TornadoVM: a scheduler none of whose names is a task of the plan ("graph.task") is an error. */
    public void setGridScheduler(GridScheduler grids) {
        boolean registered = false;
        for (GraphSpec g : graphs) {
            for (GraphSpec.TaskSpec t : g.tasks) {
                registered |= grids.get(g.name + "." + t.id()) != null;
            }
        }
        if (!registered) {
            throw new TornadoRuntimeException("[ERROR] GridScheduler Name not registered in any task-graph");
        }
        this.grids = grids;
    }

    /**
     * As TornadoVM's withPreCompilation: builds every graph now, so one over the node limit fails here, and readies its
     * library tasks as TornadoVM's warm-up does (provider found for the device, context created, prepare called).
     */
    public void precompile() {
        for (GraphSpec g : graphs) {
            GraphLimits.checkNodes(g);
            for (GraphSpec.TaskSpec task : g.tasks) {
                if (task.library() != null) {
                    prepareLibraryTask(task.library());
                }
            }
        }
    }

    public int graphCount() {
        return graphs.size();
    }

    /** Runs graph {@code index}, or every graph in order when it is negative. */
    public Times execute(int index) {
        long start = System.nanoTime();
        transferNanos = 0;
        long kernels = 0;
        for (GraphSpec g : index < 0 ? graphs : List.of(graphs.get(index))) {
            kernels += run(g);
        }
        return new Times(System.nanoTime() - start, kernels, transferNanos);
    }

    /** Copies objects that a graph keeps on the device (UNDER_DEMAND) back to the host. */
    public void transferToHost(Object... objects) {
        for (Object o : objects) {
            Map<Object, TornadoNativeArray> m = lastExecuted == null ? null : memory.get(lastExecuted);
            TornadoNativeArray device = m == null ? null : m.get(o);
            if (device == null) {
                throw new TornadoRuntimeException("transferToHost: the object is not on the device of the graph that ran last");
            }
            copy(device, (TornadoNativeArray) o);
        }
    }

    /** A part of one array, as TornadoVM's DataRange gives it: elements [offset, offset + size), size 0 to the end. */
    public void transferToHost(uk.ac.manchester.tornado.api.DataRange range) {
        TornadoNativeArray host = range.getArray();
        Map<Object, TornadoNativeArray> m = lastExecuted == null ? null : memory.get(lastExecuted);
        TornadoNativeArray device = m == null ? null : m.get(host);
        if (device == null) {
            throw new TornadoRuntimeException("transferToHost: the object is not on the device of the graph that ran last");
        }
        long element = host.getElementSize();
        long bytes = range.size() == 0 ? host.getNumBytesOfSegment() - element * range.offset() : element * range.size();
        if (range.offset() < 0 || bytes < 0 || element * range.offset() + bytes > host.getNumBytesOfSegment()) {
            throw new TornadoRuntimeException("[Error] Partial Copy size is larger than the array size");
        }
        long t0 = System.nanoTime();
        MemorySegment.copy(device.getSegment(), element * range.offset(), host.getSegment(), element * range.offset(), bytes);
        transferNanos += System.nanoTime() - t0;
    }

    /** Frees the plan's device buffers and destroys its library contexts, as TornadoVM's freeDeviceMemory and close. */
    public void freeDeviceMemory() {
        LibraryRegistry.destroyContexts(planId);
        memory.clear();
        executed.clear();
        lastExecuted = null;
    }

    private long run(GraphSpec g) {
        if (!executed.contains(g)) {
            // TornadoVM builds the graph at its first execution, before running any of it
            GraphLimits.checkNodes(g);
        }
        Map<Object, TornadoNativeArray> mem = memory.computeIfAbsent(g, k -> new IdentityHashMap<>());
        // As TornadoVM does: consumed buffers come from the graph executed last, on every run, named or not.
        for (Map.Entry<Object, String> e : g.consumed.entrySet()) {
            GraphSpec from = lastExecuted;
            if (e.getValue() != null && from != null && from != byName(e.getValue())) {
                // TornadoVM 5.2.1 would alias the last graph's buffer, or none, and go on with a stale one
                throw new TornadoRuntimeException("graph " + g.name + " consumes an object from graph " + e.getValue()
                        + ", but the graph executed last is " + from.name + ": TornadoVM 5.2.1 takes consumed buffers from the graph "
                        + "executed last whatever name consumeFromDevice gives (TornadoVM #996), and would silently read a stale "
                        + "buffer; run " + e.getValue() + " right before " + g.name + ", or consume without a name");
            }
            Map<Object, TornadoNativeArray> source = from == null ? null : memory.get(from);
            if (source == null || !source.containsKey(e.getKey()) || from != g && !from.persisted.contains(e.getKey())) {
                throw new TornadoRuntimeException("graph " + g.name + " consumes an object from the device, but "
                        + (from == null ? "no graph of this plan has run before it" : "graph " + from.name + " has not persisted it"));
            }
            if (from.toDeviceFirst.contains(e.getKey())) {
                // TornadoVM 5.2 then fails with a null device buffer; EVERY_EXECUTION works
                throw new TornadoRuntimeException("graph " + g.name + " consumes an object that graph " + from.name
                        + " transferred with FIRST_EXECUTION, which TornadoVM does not hand over; use EVERY_EXECUTION");
            }
            mem.put(e.getKey(), source.get(e.getKey()));
        }
        if (executed.add(g)) {
            toDevice(g.toDeviceFirst, mem);
        }
        toDevice(g.toDeviceEvery, mem);
        long kernels = 0;
        for (GraphSpec.TaskSpec task : g.tasks) {
            long t0 = System.nanoTime();
            if (task.library() == null) {
                runTask(g, task, mem);
            } else {
                runLibraryTask(task, mem);
            }
            kernels += System.nanoTime() - t0;
        }
        for (Object o : g.toHostEvery) {
            copy(mem.get(o), (TornadoNativeArray) o);
        }
        lastExecuted = g;
        return kernels;
    }

    private GraphSpec byName(String name) {
        for (GraphSpec g : graphs) {
            if (g.name.equals(name)) {
                return g;
            }
        }
        throw new TornadoRuntimeException("consumeFromDevice names graph " + name + ", which is not in this plan");
    }

    private void toDevice(List<Object> objects, Map<Object, TornadoNativeArray> mem) {
        for (Object o : objects) {
            TornadoNativeArray host = nativeArray(o);
            copy(host, mem.computeIfAbsent(o, k -> allocate(host)));
        }
    }

    private void runTask(GraphSpec g, GraphSpec.TaskSpec task, Map<Object, TornadoNativeArray> mem) {
        Object[] args = task.args().clone();
        int contextIndex = -1;
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof TornadoNativeArray host) {
                args[i] = mem.computeIfAbsent(host, k -> allocate(host));
            } else if (args[i] instanceof KernelContext) {
                contextIndex = i;
            }
        }
        String name = g.name + "." + task.id();
        Map<TornadoNativeArray, MemorySegment> repeated = repeated(args);
        if (contextIndex < 0) {
            task.kernel().run(args);
        } else {
            runGroups(name, task.kernel(), args, contextIndex);
        }
        repeated.forEach((array, before) -> {
            if (array.getSegment().mismatch(before) >= 0) {
                throw new TornadoRuntimeException("task " + name + " writes an array that it is given more than once: TornadoVM 5.2 never "
                        + "finishes scheduling such a graph (the second argument waits on the task itself); pass the array once");
            }
        });
    }

    /**
     * As TornadoVM's executeLibraryLaunch: an array argument is passed as the address of element 0 of its device
     * buffer (tornado-jvm's segments start past the array header, where TornadoVM's pointer points), with the host
     * array as its Java argument; a boxed primitive as itself. (TornadoVM's NVTX range around the call is left out:
     * the emulated devices have no profiler to show it.)
     */
    private void runLibraryTask(GraphSpec.TaskSpec task, Map<Object, TornadoNativeArray> mem) {
        LibraryTaskDescriptor descriptor = task.library();
        TornadoLibraryProvider provider = prepareLibraryTask(descriptor);
        Object[] args = task.args();
        long[] pointers = new long[args.length];
        boolean[] reference = new boolean[args.length];
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof TornadoNativeArray host) {
                pointers[i] = mem.computeIfAbsent(host, k -> allocate(host)).getSegment().address();
                reference[i] = true;
            }
        }
        LibraryContext context = LibraryRegistry.getOrCreateContext(provider, device, planId);
        provider.dispatch(descriptor.getFunctionName(), new LibraryInvocation(args.clone(), pointers, reference, device, planId, context,
                descriptor.getTuning()));
    }

    /** TornadoVM's compile step of a library task: its provider for this device, its context, and prepare. */
    private TornadoLibraryProvider prepareLibraryTask(LibraryTaskDescriptor descriptor) {
        TornadoLibraryProvider provider = LibraryRegistry.findProvider(descriptor.getLibraryName(), device);
        provider.prepare(descriptor, LibraryRegistry.getOrCreateContext(provider, device, planId));
        return provider;
    }

    /**
     * Copies of the arrays a task is given more than once, to see after it ran whether it wrote them. (TornadoVM decides
     * "written" from the kernel's code; a write that leaves the values as they were goes unseen here.)
     */
    private static Map<TornadoNativeArray, MemorySegment> repeated(Object[] args) {
        Map<TornadoNativeArray, MemorySegment> copies = new IdentityHashMap<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Object a : args) {
            if (a instanceof TornadoNativeArray array && !seen.add(a) && !copies.containsKey(array)) {
                copies.put(array, Arena.ofAuto().allocate(array.getNumBytesOfSegment()).copyFrom(array.getSegment()));
            }
        }
        return copies;
    }

    private void runGroups(String name, GraphSpec.Kernel kernel, Object[] args, int contextIndex) {
        WorkerGrid grid = grids.get(name);
        if (grid == null || grid.getLocalWork() == null) {
            throw new TornadoRuntimeException("KernelContext task " + name + " needs a WorkerGrid with global and local sizes in the "
                    + "plan's GridScheduler");
        }
        int[] global = new int[3];
        int[] local = new int[3];
        int[] groups = new int[3];
        for (int d = 0; d < 3; d++) {
            global[d] = Math.toIntExact(grid.getGlobalWork()[d]);
            local[d] = Math.toIntExact(grid.getLocalWork()[d]);
            if (local[d] <= 0 || global[d] % local[d] != 0) {
                throw new TornadoRuntimeException("task " + name + ": global size " + global[d] + " is not a multiple of the local size "
                        + local[d] + " in dimension " + d);
            }
            groups[d] = global[d] / local[d];
        }
        int groupSize = local[0] * local[1] * local[2];
        if (groupSize > MAX_WORK_GROUP) {
            throw new TornadoRuntimeException("task " + name + ": work-group of " + groupSize + " work-items; the limit is " + MAX_WORK_GROUP);
        }
        int groupCount = groups[0] * groups[1] * groups[2];
        AtomicReference<RuntimeException> error = new AtomicReference<>();
        IntStream.range(0, groupCount).parallel().forEach(gi -> {
            if (error.get() != null) {
                return;
            }
            int[] group = { gi % groups[0], gi / groups[0] % groups[1], gi / (groups[0] * groups[1]) };
            RuntimeException e = runGroup(name, kernel, args, contextIndex, group, global, local, groupSize);
            if (e != null) {
                error.compareAndSet(null, e);
            }
        });
        if (error.get() != null) {
            throw error.get();
        }
    }

    /** Runs one work-group, each work-item on its own virtual thread; returns the first failure, or null. */
    private static RuntimeException runGroup(String name, GraphSpec.Kernel kernel, Object[] args, int contextIndex, int[] group, int[] global,
            int[] local, int groupSize) {
        WorkGroup wg = new WorkGroup(groupSize);
        AtomicReference<RuntimeException> error = new AtomicReference<>();
        List<Thread> items = new ArrayList<>(groupSize);
        for (int li = 0; li < groupSize; li++) {
            int[] localId = { li % local[0], li / local[0] % local[1], li / (local[0] * local[1]) };
            int[] globalId = new int[3];
            for (int d = 0; d < 3; d++) {
                globalId[d] = group[d] * local[d] + localId[d];
            }
            Object[] itemArgs = args.clone();
            itemArgs[contextIndex] = new WorkItemContext(wg, globalId, localId, global, local);
            items.add(Thread.ofVirtual().start(() -> {
                try {
                    kernel.run(itemArgs);
                    wg.finish();
                } catch (WorkGroup.GroupFailed stopped) {
                    // another work-item failed first; its error is the one reported
                } catch (RuntimeException | Error e) {
                    RuntimeException wrapped = new TornadoRuntimeException("task " + name + " failed at work-item (" + globalId[0] + ", "
                            + globalId[1] + ", " + globalId[2] + "): " + e);
                    wrapped.initCause(e);
                    error.compareAndSet(null, wrapped);
                    wg.fail(e.toString());
                }
            }));
        }
        for (Thread t : items) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                wg.fail("interrupted");
                return new TornadoRuntimeException("task " + name + " was interrupted");
            }
        }
        if (error.get() == null && wg.failure() != null) {
            return new TornadoRuntimeException("task " + name + ", work-group (" + group[0] + ", " + group[1] + ", " + group[2] + "): "
                    + wg.failure());
        }
        return error.get();
    }

    private static TornadoNativeArray nativeArray(Object o) {
        if (o instanceof TornadoNativeArray a) {
            return a;
        }
        throw new TornadoRuntimeException("tornado-jvm moves FloatArray and IntArray only, not " + o.getClass().getName());
    }

    /** A device buffer: uninitialised on a real device, so garbage (NaN, or -1 for ints) here. */
    private static TornadoNativeArray allocate(TornadoNativeArray host) {
        TornadoNativeArray device = switch (host) {
            case FloatArray f -> new FloatArray(f.getSize());
            case IntArray i -> new IntArray(i.getSize());
        };
        device.getSegment().fill((byte) 0xFF);
        return device;
    }

    private void copy(TornadoNativeArray from, TornadoNativeArray to) {
        long t0 = System.nanoTime();
        MemorySegment.copy(from.getSegment(), 0, to.getSegment(), 0, from.getNumBytesOfSegment());
        transferNanos += System.nanoTime() - t0;
    }
}
