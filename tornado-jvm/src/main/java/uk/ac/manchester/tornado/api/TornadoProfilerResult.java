package uk.ac.manchester.tornado.api;

import dev.tgpt.tornadojvm.PlanExecutor;

/** Times of one execution in nanoseconds. On the JVM nothing is compiled, so compile times are 0. */
public class TornadoProfilerResult {

    private final PlanExecutor.Times times;

    TornadoProfilerResult(PlanExecutor.Times times) {
        this.times = times;
    }

    public long getTotalTime() {
        return times.total();
    }

    public long getCompileTime() {
        return 0;
    }

    public long getTornadoCompilerTime() {
        return 0;
    }

    public long getDriverInstallTime() {
        return 0;
    }

    public long getDataTransfersTime() {
        return times.transfers();
    }

    public long getDeviceKernelTime() {
        return times.kernels();
    }

    @Override
    public String toString() {
        return "total " + times.total() + " ns, kernels " + times.kernels() + " ns, transfers " + times.transfers() + " ns";
    }
}
