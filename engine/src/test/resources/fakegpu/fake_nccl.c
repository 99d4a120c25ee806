/*
 * A test double of NCCL (libnccl.so.2) for machines without a GPU: the calls tgpt makes, with NCCL's signatures
 * (nccl.h, 2.30), summing host memory through MPI_Allreduce. "Device pointers" are host addresses (tornado-jvm's
 * arrays); streams are ignored (every call completes before it returns). FAKE_NCCL_SCALE=k makes a one-rank sum
 * multiply by k, as k ranks holding the same values would sum, so a test sees which elements were summed;
 * FAKE_NCCL_ASYNC_ERROR=rc makes ncclCommGetAsyncError report rc.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { char internal[128]; } ncclUniqueId;
typedef struct { int ranks, rank; } fake_comm;

int ncclGetVersion(int *version) { *version = 23007; return 0; }

const char *ncclGetErrorString(int rc) {
    return rc == 5 ? "invalid usage (fake NCCL)" : rc == 4 ? "invalid argument (fake NCCL)" : rc == 6 ? "remote process exited or there was a network error (fake NCCL)" : "error (fake NCCL)";
}

int ncclGetUniqueId(ncclUniqueId *id) {
    memset(id, 0, sizeof *id);
    strcpy(id->internal, "fake-nccl-id");
    long stamp = (long) getpid();
    memcpy(id->internal + 64, &stamp, sizeof stamp);
    return 0;
}

int ncclCommInitRank(fake_comm **comm, int ranks, ncclUniqueId id, int rank) {
    if (strcmp(id.internal, "fake-nccl-id") != 0) return 4;
    if (ranks > 1) {
        /* every rank must hold rank 0's id: what the broadcast over MPI is for */
        char root[128];
        memcpy(root, id.internal, 128);
        MPI_Bcast(root, 128, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (memcmp(root, id.internal, 128) != 0) return 4;
    }
    *comm = malloc(sizeof(fake_comm));
    (*comm)->ranks = ranks;
    (*comm)->rank = rank;
    return 0;
}

int ncclAllReduce(const void *send, void *recv, size_t count, int type, int op, fake_comm *comm, void *stream) {
    (void) stream;
    if (type != 7 || op != 0 || comm == NULL) return 4;
    if (send != recv) memcpy(recv, send, count * 4);
    if (comm->ranks > 1) {
        for (size_t done = 0; done < count; done += 1 << 28) {
            int n = (int) (count - done < (1u << 28) ? count - done : 1u << 28);
            MPI_Allreduce(MPI_IN_PLACE, (float *) recv + done, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        }
    } else if (getenv("FAKE_NCCL_SCALE")) {
        float k = (float) atof(getenv("FAKE_NCCL_SCALE"));
        for (size_t i = 0; i < count; i++) ((float *) recv)[i] *= k;
    }
    return 0;
}

/* FAKE_NCCL_SCALE applies as in ncclAllReduce: one rank's reduce multiplies by k */
int ncclReduce(const void *send, void *recv, size_t count, int type, int op, int root, fake_comm *comm, void *stream) {
    (void) stream;
    if (type != 7 || op != 0 || comm == NULL || root < 0 || root >= comm->ranks) return 4;
    if (comm->rank == root && send != recv) memcpy(recv, send, count * 4);
    float *data = (float *) (comm->rank == root ? recv : (void *) send);
    if (comm->ranks > 1) {
        for (size_t done = 0; done < count; done += 1 << 28) {
            int n = (int) (count - done < (1u << 28) ? count - done : 1u << 28);
            MPI_Reduce(comm->rank == root ? MPI_IN_PLACE : data + done, data + done, n, MPI_FLOAT, MPI_SUM, root, MPI_COMM_WORLD);
        }
    } else if (getenv("FAKE_NCCL_SCALE")) {
        float k = (float) atof(getenv("FAKE_NCCL_SCALE"));
        for (size_t i = 0; i < count; i++) data[i] *= k;
    }
    return 0;
}

int ncclBroadcast(const void *send, void *recv, size_t count, int type, int root, fake_comm *comm, void *stream) {
    (void) stream;
    if (type != 7 || comm == NULL || root < 0 || root >= comm->ranks) return 4;
    if (comm->rank == root && send != recv) memcpy(recv, send, count * 4);
    for (size_t done = 0; comm->ranks > 1 && done < count; done += 1 << 28) {
        int n = (int) (count - done < (1u << 28) ? count - done : 1u << 28);
        MPI_Bcast((float *) recv + done, n, MPI_FLOAT, root, MPI_COMM_WORLD);
    }
    return 0;
}

/* every call completes at once here, so a group only has to be well formed: ncclInvalidUsage (5) otherwise */
static int group_depth;

int ncclGroupStart(void) { group_depth++; return 0; }

int ncclGroupEnd(void) { return group_depth-- > 0 ? 0 : 5; }

int ncclCommDestroy(fake_comm *comm) { free(comm); return 0; }

int ncclCommAbort(fake_comm *comm) { free(comm); return 0; }

/* FAKE_NCCL_ASYNC_ERROR=rc: an error NCCL met in the background (6: ncclRemoteError, a peer or link lost) */
int ncclCommGetAsyncError(fake_comm *comm, int *error) {
    (void) comm;
    *error = getenv("FAKE_NCCL_ASYNC_ERROR") ? atoi(getenv("FAKE_NCCL_ASYNC_ERROR")) : 0;
    return 0;
}
