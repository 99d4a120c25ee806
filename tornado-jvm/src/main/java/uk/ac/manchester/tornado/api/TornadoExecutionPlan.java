package uk.ac.manchester.tornado.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import dev.tgpt.tornadojvm.JvmRuntime;
import dev.tgpt.tornadojvm.PlanExecutor;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;

/** Runs immutable task graphs on a device; holds their device memory until closed. */
public class TornadoExecutionPlan implements AutoCloseable {

    /** As TornadoVM: plans are numbered from 1 in the order they are created; library contexts are kept per plan. */
    private static final AtomicLong globalExecutionPlanCounter = new AtomicLong(0);

    private final long id;
    private final PlanExecutor executor;
    private int graphIndex = -1;
    private ProfilerMode profilerMode;

    public TornadoExecutionPlan(ImmutableTaskGraph... immutableTaskGraphs) {
        List<dev.tgpt.tornadojvm.GraphSpec> specs = new ArrayList<>();
        for (ImmutableTaskGraph g : immutableTaskGraphs) {
            specs.add(g.spec);
        }
        id = globalExecutionPlanCounter.incrementAndGet();
        executor = new PlanExecutor(specs, id);
    }

    /** The id TornadoVM gives the plan, which library providers receive as the execution plan id. */
    public long getId() {
        return id;
    }

    public static TornadoDevice getDevice(int driverIndex, int deviceIndex) {
        return TornadoRuntimeProvider.getTornadoRuntime().getBackend(driverIndex).getDevice(deviceIndex);
    }

    public TornadoExecutionResult execute() {
        PlanExecutor.Times times = executor.execute(graphIndex);
        TornadoProfilerResult profile = new TornadoProfilerResult(times);
        if (profilerMode == ProfilerMode.CONSOLE) {
            System.out.println(profile);
        }
        return new TornadoExecutionResult(executor, profile);
    }

    /** Makes {@link #execute()} run only the graph at this index, in the order the plan was given them. */
    public TornadoExecutionPlan withGraph(int graphIndex) {
        if (graphIndex < 0 || graphIndex >= executor.graphCount()) {
            throw new TornadoRuntimeException("withGraph(" + graphIndex + "): the plan has " + executor.graphCount() + " graphs");
        }
        this.graphIndex = graphIndex;
        return this;
    }

    public TornadoExecutionPlan withAllGraphs() {
        graphIndex = -1;
        return this;
    }

    /** Builds the graphs now, as TornadoVM does: a graph over TornadoVM's node limit fails here. */
    public TornadoExecutionPlan withPreCompilation() {
        executor.precompile();
        return this;
    }

    public TornadoExecutionPlan withDevice(TornadoDevice device) {
        if (!JvmRuntime.isEmulatedDevice(device)) {
            throw new TornadoRuntimeException("tornado-jvm runs on its own emulated device only, not " + device.getDeviceName());
        }
        executor.setDevice((TornadoXPUDevice) device);
        return this;
    }

    public TornadoExecutionPlan withGridScheduler(GridScheduler gridScheduler) {
        executor.setGridScheduler(gridScheduler);
        return this;
    }

    public TornadoExecutionPlan withProfiler(ProfilerMode profilerMode) {
        this.profilerMode = profilerMode;
        return this;
    }

    public TornadoExecutionPlan withoutProfiler() {
        this.profilerMode = null;
        return this;
    }

    public TornadoExecutionPlan freeDeviceMemory() {
        executor.freeDeviceMemory();
        return this;
    }

    @Override
    public void close() throws TornadoExecutionPlanException {
        executor.freeDeviceMemory();
    }
}
