package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tgpt.engine.ops.FillOps;

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

/** A TornadoVM device: each program becomes a task graph; a session's graphs share one execution plan and its device memory. */
public final class TornadoVmBackend implements Backend {

    private final int backendIndex;
    private final int deviceIndex;
    private final DeviceInfo info;

    TornadoVmBackend(int backendIndex, int deviceIndex, TornadoDevice device, String backendName) {
        this.backendIndex = backendIndex;
        this.deviceIndex = deviceIndex;
        String name = device.getPhysicalDevice().getDeviceName() + " (" + device.getPlatformName().trim() + ")";
        this.info = new DeviceInfo(backendIndex + ":" + deviceIndex, backendName, name, device.getDeviceType().name(),
                device.getMaxGlobalMemory(), device.getPhysicalDevice().getDeviceMaxComputeUnits(), 0);
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    /**
     * One execution plan: an upload graph that copies every program's state to the device (run once; TornadoVM needs a
     * task in it, so it fills a one-element marker, and EVERY_EXECUTION, since TornadoVM 5.2 loses FIRST_EXECUTION
     * buffers that another graph consumes), then one graph per program. Each program graph consumes all state from
     * the graph that ran before it and persists it for the next, so the buffers pass along on the device in any order.
     */
    @Override
    public Session open(Program... programs) {
        List<Object> state = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<String> names = new HashSet<>();
        for (Program p : programs) {
            if (!names.add(p.name)) {
                throw new IllegalArgumentException("two programs of one session are named " + p.name);
            }
            for (Object o : p.state) {
                if (seen.add(o)) {
                    state.add(o);
                }
            }
        }
        Object[] all = state.toArray();
        List<ImmutableTaskGraph> graphs = new ArrayList<>();
        GridScheduler grids = new GridScheduler();
        if (all.length > 0) {
            FloatArray marker = new FloatArray(1);
            TaskGraph upload = new TaskGraph("upload").transferToDevice(DataTransferMode.EVERY_EXECUTION, all);
            upload.task("marker", dev.tgpt.kernels.Fill::fill, marker, 0, 1, 1f);
            graphs.add(upload.persistOnDevice(all).snapshot());
        }
        Map<Program, Integer> index = new IdentityHashMap<>();
        for (Program p : programs) {
            index.put(p, graphs.size());
            graphs.add(graph(p, all, grids));
        }
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(TornadoExecutionPlan.getDevice(backendIndex, deviceIndex)).withProfiler(ProfilerMode.SILENT);
        if (!grids.keySet().isEmpty()) {
            plan.withGridScheduler(grids); // TornadoVM rejects a scheduler that names no task
        }
        boolean upload = all.length > 0;
        return new Session() {
            private boolean uploaded = !upload;
            private TornadoExecutionResult last;

            @Override
            public void run(Program program) {
                Integer i = index.get(program);
                if (i == null) {
                    throw new IllegalArgumentException("program " + program.name + " was not opened in this session");
                }
                if (!uploaded) {
                    plan.withGraph(0).execute();
                    uploaded = true;
                }
                last = plan.withGraph(i).execute();
            }

            @Override
            public void read(Object... arrays) {
                if (last != null) {
                    last.transferToHost(arrays);
                }
            }

            @Override
            public Profile profile() {
                if (last == null) {
                    return Profile.NONE;
                }
                TornadoProfilerResult p = last.getProfilerResult();
                return new Profile(p.getTotalTime(), p.getCompileTime(), p.getDeviceKernelTime(), p.getDataTransfersTime());
            }

            @Override
            public void close() {
                try {
                    plan.close();
                } catch (TornadoExecutionPlanException e) {
                    throw new IllegalStateException("could not free the device memory of a session", e);
                }
            }
        };
    }

    private static ImmutableTaskGraph graph(Program p, Object[] state, GridScheduler grids) {
        TaskGraph graph = new TaskGraph(p.name);
        if (state.length > 0) {
            graph.consumeFromDevice(state);
        }
        if (!p.inputs.isEmpty()) {
            graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, p.inputs.toArray());
        }
        for (int i = 0; i < p.launches.size(); i++) {
            Launch l = p.launches.get(i);
            String id = l.name() + "_" + i;
            KernelContext context = new KernelContext();
            l.task().addTo(new Tasks() {
                @Override
                public KernelContext context() {
                    return context;
                }

                @Override
                protected void add(String taskId, Object[] args, java.util.function.Consumer<TaskGraph> adder) {
                    adder.accept(graph);
                }
            }, id);
            if (l.grid() != null) {
                grids.addWorkerGrid(p.name + "." + id, l.grid());
            }
        }
        if (!p.outputs.isEmpty()) {
            graph.transferToHost(DataTransferMode.EVERY_EXECUTION, p.outputs.toArray());
        }
        if (state.length > 0) {
            graph.persistOnDevice(state);
            // State can be read back on demand (Session.read), e.g. for a checkpoint: nothing moves until asked.
            List<Object> onDemand = new ArrayList<>();
            for (Object o : state) {
                if (!p.outputs.contains(o)) {
                    onDemand.add(o);
                }
            }
            if (!onDemand.isEmpty()) {
                graph.transferToHost(DataTransferMode.UNDER_DEMAND, onDemand.toArray());
            }
        }
        return graph.snapshot();
    }
}
