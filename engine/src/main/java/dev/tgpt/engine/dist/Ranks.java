package dev.tgpt.engine.dist;

import dev.tgpt.engine.UserError;

/**
 * This process's place in a run, from what its launcher put in the environment:
 * <ul>
 * <li>Open MPI's mpirun: OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_LOCAL_RANK (and PMIX_RANK);</li>
 * <li>Slurm's {@code srun --mpi=pmix}: PMIX_RANK with SLURM_STEP_NUM_TASKS (SLURM_NTASKS), SLURM_PROCID,
 * SLURM_LOCALID. Slurm's variables alone say nothing: a batch script sees its allocation's SLURM_NTASKS while it is
 * one process; but a step of several tasks (SLURM_STEP_NUM_TASKS &gt; 1) with no PMI is refused;</li>
 * <li>PMI-2 ({@code srun --mpi=pmi2}, MPICH's mpiexec): PMI_SIZE, PMI_RANK, and MPICH's MPI_LOCALRANKID.</li>
 * </ul>
 */
public final class Ranks {

    private static Collective instance;

    private Ranks() {
    }

    /**
     * The run this process belongs to: {@link Mpi} when the environment says it is one of several processes, else
     * {@link Collective#single()}, which needs no MPI installed. The same instance on every call (MPI starts once per
     * process); close it at the end of the run, since mpirun counts a rank that exits without MPI_Finalize as failed.
     *
     * @throws UserError when several ranks are indicated but Open MPI's library cannot be loaded, or srun started
     *         several tasks without PMIx
     */
    public static synchronized Collective fromEnvironment() {
        if (instance == null) {
            String step = first("SLURM_STEP_NUM_TASKS");
            if (envSize() == 1 && step != null && Integer.parseInt(step.trim()) > 1) {
                // srun -n N without PMIx (MpiDefault=none): N copies that would each train alone into the same --out
                throw new UserError("srun started " + step.trim() + " tasks without PMIx, so each would train"
                        + " alone: run srun --mpi=pmix (or set MpiDefault=pmix in slurm.conf)");
            }
            instance = envSize() > 1 ? Mpi.init() : Collective.single();
        }
        return instance;
    }

    /**
     * The end of this process's run: MPI_Finalize after a success; after a failure MPI_Abort, so that the other ranks,
     * waiting for this one, end too (it does not return then). Nothing when MPI was never started.
     */
    public static synchronized void end(int exitCode) {
        if (instance instanceof Mpi mpi) {
            if (exitCode == 0) {
                mpi.close();
            } else {
                mpi.abort(exitCode);
            }
        }
    }

    static int envSize() {
        String size = first("OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
        if (size == null && System.getenv("PMIX_RANK") != null) {
            size = first("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS");
        }
        return size == null ? 1 : Integer.parseInt(size.trim());
    }

    /** This rank as the launcher numbered it (MPI says the same once started); 0 when not started by one. */
    public static int launcherRank() {
        return envRank();
    }

    /** This process's rank among those of its machine, as the launcher numbered it; 0 when not started by one. */
    public static int launcherLocalRank() {
        return envLocalRank();
    }

    static int envRank() {
        String rank = first("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID");
        return rank == null ? 0 : Integer.parseInt(rank.trim());
    }

    static int envLocalRank() {
        String local = first("OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID");
        return local == null ? 0 : Integer.parseInt(local.trim());
    }

    private static String first(String... names) {
        for (String name : names) {
            String value = System.getenv(name);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }
}
