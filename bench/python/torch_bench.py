#!/usr/bin/env python3
"""PyTorch's side of ./tgpt bench: times the same cases (kernels and model figures) in PyTorch, with the same protocol.

  python3 torch_bench.py --cases CASES.json --device cpu|cuda --threads N --out RESULTS.json
                         [--warmup S --min-runs N --min-seconds S --max-runs N]

CASES.json is a list of {"kind", "name", "params"} as tgpt's bench writes it (dev.tgpt.bench.Case); each name is
looked up in torch_kernels.CASES or torch_models.CASES, whose entry builds the inputs for the params and returns a
function of no arguments that runs the case once. Cases without a PyTorch twin are skipped. RESULTS.json is a list
of {"name", "params", "device_name", "runs", "median_ms", "p25_ms", "p75_ms", "min_ms", "max_ms", "note"}.
float32 throughout; on CUDA, TF32 is off so that matmuls are true fp32 SGEMM.
"""
import argparse
import json
import sys
import time

import torch

import torch_kernels
import torch_models


def quantile(sorted_ms, q):
    # numpy's default (linear) interpolation, as dev.tgpt.bench.Stats does
    pos = q * (len(sorted_ms) - 1)
    lo = int(pos)
    hi = min(len(sorted_ms) - 1, lo + 1)
    return sorted_ms[lo] + (pos - lo) * (sorted_ms[hi] - sorted_ms[lo])


WINDOW = 5
SETTLE_LIMIT = 5
ATTEMPTS = 4
MAX_SPREAD = 0.2
MAX_OVER_FASTEST = 2


def settled(warm):
    # dev.tgpt.bench.Protocol's rule: the last WINDOW runs no more than 10% faster than the WINDOW before them
    if len(warm) < 2 * WINDOW:
        return False
    return quantile(sorted(warm[-WINDOW:]), 0.5) >= 0.9 * quantile(sorted(warm[-2 * WINDOW:-WINDOW]), 0.5)


def stable(ms):
    # dev.tgpt.bench.Stats's rule: interquartile range within 20% of the median, median within 2x the fastest run
    s = sorted(ms)
    median = quantile(s, 0.5)
    return quantile(s, 0.75) - quantile(s, 0.25) <= MAX_SPREAD * median and median <= MAX_OVER_FASTEST * s[0]


def time_case(run, sync, warmup, min_runs, min_seconds, max_runs):
    # dev.tgpt.bench.Protocol's rules, but for the JIT (PyTorch's eager mode has none): warm up, then timed attempts
    # until two in a row are stable together, at most ATTEMPTS; the runs of the last two are kept
    start = time.perf_counter()
    warm = []
    while (len(warm) < 2 or time.perf_counter() - start < warmup
           or (not settled(warm) and time.perf_counter() - start < SETTLE_LIMIT * warmup)):
        t0 = time.perf_counter()
        run()
        sync()
        warm.append((time.perf_counter() - t0) * 1e3)
    last = timed(run, sync, min_runs, min_seconds, max_runs)
    both = last
    for _ in range(1, ATTEMPTS):
        nxt = timed(run, sync, min_runs, min_seconds, max_runs)
        both = last + nxt
        if stable(both):
            break
        last = nxt
    return both


def timed(run, sync, min_runs, min_seconds, max_runs):
    ms = []
    timed_start = time.perf_counter()
    while len(ms) < max_runs and (len(ms) < min_runs or time.perf_counter() - timed_start < min_seconds):
        t0 = time.perf_counter()
        run()
        sync()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--min-runs", type=int, default=10)
    ap.add_argument("--min-seconds", type=float, default=1)
    ap.add_argument("--max-runs", type=int, default=200)
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        device_name = torch.cuda.get_device_name(device)
        sync = torch.cuda.synchronize
    else:
        device_name = "CPU, %d threads" % torch.get_num_threads()
        sync = lambda: None
    torch.manual_seed(0)
    torch.set_grad_enabled(False)

    registry = dict(torch_kernels.CASES)
    registry.update(torch_models.CASES)
    with open(a.cases) as f:
        cases = json.load(f)
    out = []
    for c in cases:
        make = registry.get(c["name"])
        if make is None:
            continue
        built = make(c["params"], device)
        run, note = built if isinstance(built, tuple) else (built, "")
        ms = sorted(time_case(run, sync, a.warmup, a.min_runs, a.min_seconds, a.max_runs))
        out.append({"name": c["name"], "params": c["params"], "device_name": device_name, "runs": len(ms),
                    "median_ms": quantile(ms, 0.5), "p25_ms": quantile(ms, 0.25), "p75_ms": quantile(ms, 0.75),
                    "min_ms": ms[0], "max_ms": ms[-1], "note": note})
        print("pytorch %s %s: %.3f ms" % (c["name"], c["params"], out[-1]["median_ms"]), file=sys.stderr, flush=True)
        del run, built
        if device.type == "cuda":
            torch.cuda.empty_cache()
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
