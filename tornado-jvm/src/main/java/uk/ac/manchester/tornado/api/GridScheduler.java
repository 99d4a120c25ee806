package uk.ac.manchester.tornado.api;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** Worker grids by task, keyed "graphName.taskId". */
public class GridScheduler {

    private final Map<String, WorkerGrid> grids = new HashMap<>();

    public GridScheduler() {
    }

    public GridScheduler(String taskName, WorkerGrid workerGrid) {
        addWorkerGrid(taskName, workerGrid);
    }

    public void addWorkerGrid(String taskName, WorkerGrid workerGrid) {
        grids.put(taskName, workerGrid);
    }

    public WorkerGrid get(String taskName) {
        return grids.get(taskName);
    }

    public boolean contains(String taskScheduleName, String taskName) {
        return grids.containsKey(taskScheduleName + "." + taskName);
    }

    public Set<String> keySet() {
        return grids.keySet();
    }
}
