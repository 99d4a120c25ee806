package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.TornadoProfilerResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** A TornadoVM device: programs become task graphs that fit TornadoVM's limits; a session's graphs share one execution plan and its device memory. */
public final class TornadoVmBackend implements Backend {

    private final int backendIndex;
    private final int deviceIndex;
    private final DeviceInfo info;

    TornadoVmBackend(int backendIndex, int deviceIndex, TornadoDevice device, String backendName) {
        this.backendIndex = backendIndex;
        this.deviceIndex = deviceIndex;
        String name = device.getPhysicalDevice().getDeviceName() + " (" + device.getPlatformName().trim() + ")";
        this.info = new DeviceInfo(backendIndex + ":" + deviceIndex, backendName, name, device.getDeviceType().name(),
                device.getMaxGlobalMemory(), device.getMaxAllocMemory(), device.getPhysicalDevice().getDeviceMaxComputeUnits(), 0);
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    /** TornadoVM's device object (a library task's provider decides from it whether it can run there). */
    public TornadoDevice device() {
        return TornadoExecutionPlan.getDevice(backendIndex, deviceIndex);
    }

    /** The device's index within its TornadoVM backend (under the CUDA backend, the CUDA device ordinal). */
    public int deviceIndex() {
        return deviceIndex;
    }

    /**
     * One execution plan for the session: upload graphs that copy every shared array to the device (run once), then
     * each program as one or more graphs ({@link GraphPlan}: TornadoVM 5.2 holds at most 1,024 nodes in a graph).
     * Every graph consumes the shared arrays from the graph that ran before it and persists them for the next, so
     * parameters, gradients, moments and activations never leave the device, whatever order programs run in.
     */
    @Override
    public Session open(Program... programs) {
        GraphPlan plan = new GraphPlan(programs);
        List<ImmutableTaskGraph> graphs = new ArrayList<>();
        GridScheduler grids = new GridScheduler();
        for (GraphPlan.Chunk c : plan.uploads) {
            graphs.add(graph(c, grids));
        }
        Map<Program, int[]> index = new IdentityHashMap<>();
        for (Program p : programs) {
            List<GraphPlan.Chunk> chunks = plan.chunks.get(p);
            int[] ids = new int[chunks.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = graphs.size();
                graphs.add(graph(chunks.get(i), grids));
            }
            index.put(p, ids);
        }
        TornadoExecutionPlan executionPlan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        executionPlan.withDevice(TornadoExecutionPlan.getDevice(backendIndex, deviceIndex)).withProfiler(ProfilerMode.SILENT);
        if (!grids.keySet().isEmpty()) {
            executionPlan.withGridScheduler(grids); // TornadoVM rejects a scheduler that names no task
        }
        int uploads = plan.uploads.size();
        return new Session() {
            private boolean uploaded = uploads == 0;
            private TornadoExecutionResult last;
            private Profile profile = Profile.NONE;

            @Override
            public void run(Program program) {
                int[] ids = index.get(program);
                if (ids == null) {
                    throw new IllegalArgumentException("program " + program.name + " was not opened in this session");
                }
                if (!uploaded) {
                    for (int i = 0; i < uploads; i++) {
                        executionPlan.withGraph(i).execute();
                    }
                    uploaded = true;
                }
                long total = 0, compile = 0, kernels = 0, copies = 0;
                List<GraphPlan.Chunk> chunks = plan.chunks.get(program);
                for (int i = 0; i < ids.length; i++) {
                    copies += host(chunks.get(i).before());
                    last = executionPlan.withGraph(ids[i]).execute();
                    TornadoProfilerResult p = last.getProfilerResult();
                    total += p.getTotalTime();
                    compile += p.getCompileTime();
                    kernels += p.getDeviceKernelTime();
                    copies += p.getDataTransfersTime();
                    copies += host(chunks.get(i).after());
                }
                if (!program.outputs.isEmpty()) {
                    // outputs are read from the graph that ran last, as any shared array (the graph that wrote one
                    // may be an earlier one, and TornadoVM copies back only what a graph's own tasks wrote)
                    long t0 = System.nanoTime();
                    last.transferToHost(devices(program.outputs.toArray()));
                    copies += System.nanoTime() - t0;
                }
                profile = new Profile(total, compile, kernels, copies);
            }

            @Override
            public void read(Object... arrays) {
                if (last != null) {
                    last.transferToHost(devices(arrays));
                }
            }

            @Override
            public void read(FloatArray array, long from, long to) {
                if (last != null && to > from) {
                    last.transferToHost(new DataRange((FloatArray) Slab.device(array)).withOffset(from).withSize(to - from));
                }
            }

            /** Host code between graphs: its ranges copied from the device, then the code; the copies' nanoseconds. */
            private long host(List<Launch> code) {
                long copying = 0;
                for (Launch l : code) {
                    long t0 = System.nanoTime();
                    long[] r = l.host().reads().get();
                    for (int k = 0; k < r.length; k += 2) {
                        read(l.host().array(), r[k], r[k + 1]);
                    }
                    copying += System.nanoTime() - t0;
                    l.host().action().run();
                }
                return copying;
            }

            @Override
            public Profile profile() {
                return profile;
            }

            @Override
            public void close() {
                try {
                    executionPlan.close();
                } catch (TornadoExecutionPlanException e) {
                    throw new IllegalStateException("could not free the device memory of a session", e);
                }
            }
        };
    }

    /** The device buffers of these arrays (a slab view's is its slab), each once. */
    private static Object[] devices(Object... arrays) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> out = new ArrayList<>();
        for (Object a : arrays) {
            Object d = Slab.device(a);
            if (seen.add(d)) {
                out.add(d);
            }
        }
        return out.toArray();
    }

    /** A chunk as a task graph: consume and stream in the shared arrays, the tasks, persist what they touch. */
    private static ImmutableTaskGraph graph(GraphPlan.Chunk c, GridScheduler grids) {
        TaskGraph graph = new TaskGraph(c.name());
        if (!c.consume().isEmpty()) {
            graph.consumeFromDevice(c.consume().toArray());
        }
        if (!c.streamIn().isEmpty()) {
            graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, c.streamIn().toArray());
        }
        Set<Object> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(c.consume());
        keep.addAll(c.streamIn());
        List<Object> persist = new ArrayList<>(c.consume());
        persist.addAll(c.streamIn());
        KernelContext context = new KernelContext();
        for (GraphPlan.Step s : c.steps()) {
            for (Tasks.Call call : GraphPlan.record(s.launch(), s.id(), context)) {
                call.graph().accept(graph);
                for (Object a : call.args()) {
                    // an array only this task touches: kept too, so its buffer is allocated once, not every run
                    if (GraphPlan.isArray(a) && keep.add(a)) {
                        persist.add(a);
                    }
                }
            }
            if (s.launch().grid() != null) {
                grids.addWorkerGrid(c.name() + "." + s.id(), s.launch().grid());
            }
        }
        graph.persistOnDevice(persist.toArray());
        return graph.snapshot();
    }
}
