/*
 * A test double of the CUDA driver (libcuda.so.1) for machines without a GPU: the calls tgpt makes, with cuda.h's
 * signatures. Memory is host memory, copies are memcpy, streams and events are handles that order nothing (every
 * call completes before it returns). The primary context is a handle of its own, so a caller on another context (as
 * tornado-jvm's emulated CUDA device reports) takes the staged path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PRIMARY ((uintptr_t) 0x9000)

static __thread uintptr_t current;
static long copies, handles = 0x100;

long fake_cuda_copies(void) { return copies; }

int cuInit(unsigned flags) { (void) flags; return 0; }
int cuGetErrorString(int rc, const char **s) { (void) rc; *s = "fake CUDA error"; return 0; }
int cuCtxGetCurrent(uintptr_t *ctx) { *ctx = current; return 0; }
int cuCtxSetCurrent(uintptr_t ctx) { current = ctx; return 0; }
int cuCtxGetDevice(int *device) { *device = 0; return 0; }
int cuDevicePrimaryCtxRetain(uintptr_t *ctx, int device) { *ctx = PRIMARY + device; return 0; }
int cuDevicePrimaryCtxRelease_v2(int device) { (void) device; return 0; }
int cuMemAlloc_v2(uintptr_t *p, size_t bytes) { *p = (uintptr_t) malloc(bytes); return *p ? 0 : 2; }
int cuMemFree_v2(uintptr_t p) { free((void *) p); return 0; }
int cuStreamCreate(uintptr_t *s, unsigned flags) { (void) flags; *s = handles++; return 0; }
int cuEventCreate(uintptr_t *e, unsigned flags) { (void) flags; *e = handles++; return 0; }
int cuEventRecord(uintptr_t e, uintptr_t s) { (void) e; (void) s; return 0; }
int cuStreamWaitEvent(uintptr_t s, uintptr_t e, unsigned flags) { (void) s; (void) e; (void) flags; return 0; }
int cuMemcpyPeerAsync(uintptr_t dst, uintptr_t dstCtx, uintptr_t src, uintptr_t srcCtx, size_t bytes, uintptr_t s) {
    (void) dstCtx; (void) srcCtx; (void) s;
    memcpy((void *) dst, (const void *) src, bytes);
    copies++;
    return 0;
}
