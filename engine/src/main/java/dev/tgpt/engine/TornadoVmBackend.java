package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.List;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.TornadoProfilerResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

/** A TornadoVM device: a program becomes one task graph, run by one execution plan that keeps its arrays on the device. */
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

    @Override
    public Compiled compile(Program program) {
        TaskGraph graph = new TaskGraph(program.name);
        if (!program.state.isEmpty()) {
            graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, program.state.toArray());
        }
        if (!program.inputs.isEmpty()) {
            graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, program.inputs.toArray());
        }
        GridScheduler grids = new GridScheduler();
        for (int i = 0; i < program.launches.size(); i++) {
            Launch l = program.launches.get(i);
            String id = l.name() + "_" + i;
            l.task().addTo(graph, id);
            if (l.grid() != null) {
                grids.addWorkerGrid(program.name + "." + id, l.grid());
            }
        }
        if (!program.outputs.isEmpty()) {
            graph.transferToHost(DataTransferMode.EVERY_EXECUTION, program.outputs.toArray());
        }
        // State can be read back on demand (Compiled.read), e.g. to save a checkpoint: nothing moves until asked.
        List<Object> onDemand = new ArrayList<>();
        for (Object o : program.state) {
            if (!program.outputs.contains(o)) {
                onDemand.add(o);
            }
        }
        if (!onDemand.isEmpty()) {
            graph.transferToHost(DataTransferMode.UNDER_DEMAND, onDemand.toArray());
        }
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withDevice(TornadoExecutionPlan.getDevice(backendIndex, deviceIndex)).withProfiler(ProfilerMode.SILENT);
        // TornadoVM refuses a GridScheduler that names no task ("not registered"): a program of @Parallel kernels only has none.
        if (program.launches.stream().anyMatch(l -> l.grid() != null)) {
            plan.withGridScheduler(grids);
        }
        return new Compiled() {
            private TornadoExecutionResult last;

            @Override
            public void run() {
                last = plan.execute();
            }

            @Override
            public void read(Object... arrays) {
                if (last == null) {
                    throw new IllegalStateException("read before the first run");
                }
                last.transferToHost(arrays);
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
                    throw new IllegalStateException("could not free the device memory of " + program.name, e);
                }
            }
        };
    }
}
