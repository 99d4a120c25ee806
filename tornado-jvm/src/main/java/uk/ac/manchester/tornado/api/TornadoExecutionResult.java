package uk.ac.manchester.tornado.api;

import dev.tgpt.tornadojvm.PlanExecutor;

/** What an execution returns: its profile, and the way to fetch UNDER_DEMAND data. */
public class TornadoExecutionResult {

    private final PlanExecutor executor;
    private final TornadoProfilerResult profilerResult;

    TornadoExecutionResult(PlanExecutor executor, TornadoProfilerResult profilerResult) {
        this.executor = executor;
        this.profilerResult = profilerResult;
    }

    public TornadoProfilerResult getProfilerResult() {
        return profilerResult;
    }

    public TornadoExecutionResult transferToHost(Object... objects) {
        executor.transferToHost(objects);
        return this;
    }

    /** Copies part of an array from the device of the graph that ran last (TornadoVM: for arrays copied on demand). */
    public TornadoExecutionResult transferToHost(DataRange range) {
        executor.transferToHost(range);
        return this;
    }

    public boolean isReady() {
        return true;
    }
}
