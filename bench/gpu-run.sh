#!/usr/bin/env bash
# bench/gpu-run.sh: issue 19's GPU session in one prepared run (at most 8 minutes), from the project's root on a GPU
# machine that has a GPU driver, python3 with PyTorch and transformers, and no JDK:
#
#   bench/gpu-run.sh BUNDLE_DIR [OUT_DIR]
#
# BUNDLE_DIR  an unpacked bundle (tgpt-gpu/: bin/tgpt, with a jlink'ed JDK 25 and a TornadoVM SDK built with the
#             opencl, ptx and cuda backends), made on a development machine by ../shared/tools/gpu-bundle.sh from a
#             build of this checkout in SDK mode; docs/gpu.md says how.
# OUT_DIR     default runs/gpu: log.txt (everything), summary.txt (the lines that matter), parity-*/, bench-*/
#             (results.json, results.csv, report.md) and shakespeare-*/ (metrics.jsonl).
#
# Steps, each under its own time limit, going on past a failure (exit 1 at the end if any failed):
#   1. tgpt devices: the GPUs it lists, the CUDA (NVRTC) backend's first, then PTX's, then OpenCL's
#   2. kernels --check on each GPU
#   3. GPT-2 parity against transformers' GPT2LMHeadModel (bench/python/hf_parity.py; 2 and 12 layers) on each
#   4. the benchmark at a GPU's shapes beside PyTorch on the same GPU, TF32 off (bench --gpu-sizes): every case on the
#      first GPU, matmul and the training step on the others
#   5. 200 steps of nanoGPT's shakespeare_char config (6 layers, 6 heads, 384 wide, context 256, batch 64, dropout
#      0.2, lr 1e-3) on each GPU, with the wall time
#   6. NCCL through TornadoVM's library task (docs/nccl.md) on the CUDA backend's first GPU: 3 training steps with
#      --collective nccl (one rank: the all-reduce sums one term, so the losses must equal a run without it), and
#      with --zero 1 (NCCL's grouped reduce and broadcast of the one shard), NCCL from PyTorch's nvidia-nccl wheel
#
# Environment: GPU_RUN_DEVICES=D,D (the devices to use instead of the GPUs listed: 0:0, PoCL's CPU device, to rehearse
# here), GPU_RUN_SMALL=1 (small shapes, for a rehearsal on a CPU device), GPU_RUN_MEMORY (what TornadoVM may allocate
# on the device: default 120GB, of an H200's 139 GiB), PYTHON (default python3), TGPT_JAVA_OPTS (added).
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: bench/gpu-run.sh BUNDLE_DIR [OUT_DIR]" >&2; exit 2; }
TGPT="$(cd "$1" && pwd)/bin/tgpt"
[ -x "$TGPT" ] || { echo "gpu-run: $1 holds no bin/tgpt: unpack the bundle made by gpu-bundle.sh there" >&2; exit 2; }
[ -f bench/python/hf_parity.py ] || { echo "gpu-run: run from the project's root" >&2; exit 2; }
OUT=${2:-runs/gpu}
# TornadoVM lets a program use 4 GB of a device unless told; a kernel that does not compile must fail, not run on the host
export TGPT_JAVA_OPTS="-Dtornado.device.memory=${GPU_RUN_MEMORY:-120GB} -Dtornado.recover.bailout=False ${TGPT_JAVA_OPTS:-}"
PY=${PYTHON:-python3}
SMALL=${GPU_RUN_SMALL:-}
mkdir -p "$OUT"
LOG="$OUT/log.txt"
SUMMARY="$OUT/summary.txt"
: >"$LOG"
: >"$SUMMARY"
failed=0
START=$SECONDS
BUDGET=480

say() { echo "$*" | tee -a "$SUMMARY"; }

# run NAME LIMIT CMD...: runs CMD under a time limit (cut to what is left of the budget), its output to the log;
# returns CMD's status (124 when cut short)
run() {
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET - (SECONDS - START)))
  if [ "$left" -le 10 ]; then
    : >"$LOG.step"
    say "$name: SKIPPED (the ${BUDGET} s budget is spent)"
    failed=1
    return 124
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit} s): $*" >>"$LOG"
  local t0=$SECONDS rc
  timeout --kill-after=10 "$limit" "$@" >"$LOG.step" 2>&1
  rc=$?
  cat "$LOG.step" >>"$LOG"
  echo "== $name: exit $rc after $((SECONDS - t0)) s" >>"$LOG"
  if [ $rc -ne 0 ]; then
    failed=1
    say "$name: FAILED (exit $rc after $((SECONDS - t0)) s$([ $rc -eq 124 ] && echo ', time limit'))"
  fi
  return $rc
}
step_output() { cat "$LOG.step" 2>/dev/null; rm -f "$LOG.step"; }

# 1. devices (TornadoVM stops at the first backend that cannot start: then smaller sets of backends are tried)
if ! run devices 90 "$TGPT" devices && [ -z "${TGPT_BACKENDS:-}" ]; then
  for try in ptx,cuda cuda ptx opencl; do
    export TGPT_BACKENDS=$try
    run "devices with TGPT_BACKENDS=$try" 60 "$TGPT" devices && break
    unset TGPT_BACKENDS
  done
fi
devices_out=$(step_output)
echo "$devices_out" | tee -a "$SUMMARY"
if [ -n "${GPU_RUN_DEVICES:-}" ]; then
  DEVICES=${GPU_RUN_DEVICES//,/ }
else
  # the CUDA backend's GPUs first (TornadoVM 6 keeps it), then PTX's, then any other backend's
  DEVICES=$(echo "$devices_out" | awk '$3 == "GPU" {rank = $2 == "CUDA" ? 0 : $2 == "PTX" ? 1 : 2; print rank, $1}' | sort -s -k1,1n | awk '{print $2}')
fi
DEVICES=$(echo $DEVICES)
[ -n "$DEVICES" ] || { say "no GPU listed: nothing to run (GPU_RUN_DEVICES names devices to use anyway)"; exit 1; }
say "devices to use: $DEVICES"
tag() { echo "$devices_out" | awk -v id="$1" '$1 == id {print tolower($2) "-" id}' | tr ':' '-'; }

# 2. kernels --check
for d in $DEVICES; do
  run "kernels --check on $d" 120 "$TGPT" kernels --check --device "$d"
  step_output | grep -E "checks (passed|FAILED)|FAIL" | sed "s/^/$d: /" | tee -a "$SUMMARY"
done

# 3. parity against transformers
for d in $DEVICES; do
  run "hf_parity on $d" 150 "$PY" bench/python/hf_parity.py --tgpt "$TGPT" --device "$d" --out "$OUT/parity-$(tag "$d")" \
    --layers "$([ -n "$SMALL" ] && echo 2 || echo 2,12)"
  step_output | grep '^hf_parity' | tee -a "$SUMMARY"
done

# 4. the benchmark beside PyTorch
first=1
for d in $DEVICES; do
  sizes=(--gpu-sizes)
  [ -n "$SMALL" ] && sizes=(--quick)
  ops=()
  [ $first -eq 1 ] || ops=(--op matmul,train_step)
  [ -n "$SMALL" ] && ops=(--op matmul,layernorm --no-models)
  run "bench on $d" "$([ $first -eq 1 ] && echo 200 || echo 80)" "$TGPT" bench --device "$d" "${sizes[@]}" "${ops[@]}" --python "$PY" \
    --no-openblas --out "$OUT/bench-$(tag "$d")"
  step_output | sed -n '/^## /,$p' | grep -E '^\|' | sed "s/^/$d /" | tee -a "$SUMMARY"
  first=0
done

# 5. nanoGPT's shakespeare_char config, 200 steps
for d in $DEVICES; do
  if [ -n "$SMALL" ]; then
    shape=(--layers 2 --heads 2 --channels 32 --context 32 --batch 4 --steps 3)
  else
    shape=(--layers 6 --heads 6 --channels 384 --context 256 --batch 64 --steps 200)
  fi
  s0=$SECONDS
  run "shakespeare_char on $d" 120 "$TGPT" train --device "$d" --data data/tinyshakespeare.txt "${shape[@]}" --dropout 0.2 --lr 1e-3 \
    --min-lr 1e-4 --warmup 100 --eval-every 1000000 --sample-tokens 0 --out "$OUT/shakespeare-$(tag "$d")"
  step_output | tr '\r' '\n' | grep -oE '(model:|[0-9]+ steps in).*' | sed "s/^/$d: /" | tee -a "$SUMMARY"
  say "$d: shakespeare_char wall $((SECONDS - s0)) s (JVM start and TornadoVM's compiling included)"
done

# 6. NCCL in a library task, one rank (no MPI on the GPU machine: two ranks wait for a session that has it)
cuda=$(echo "$devices_out" | awk '$2 == "CUDA" && $3 == "GPU" {print $1; exit}')
nccl=$("$PY" -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null)
if [ -z "$cuda" ]; then
  say "nccl: SKIPPED (no device of TornadoVM's CUDA backend listed)"
elif [ ! -f "$nccl" ]; then
  say "nccl: SKIPPED (no libnccl.so.2 in $PY's nvidia.nccl package)"
else
  tiny=(train --device "$cuda" --data data/tinyshakespeare.txt --layers 2 --heads 2 --channels 64 --context 64 --batch 8 --steps 3
    --eval-every 1000000 --sample-tokens 0)
  run "nccl: without" 60 "$TGPT" "${tiny[@]}" --out "$OUT/nccl-host"
  step_output >/dev/null
  TGPT_JAVA_OPTS="$TGPT_JAVA_OPTS -Dtgpt.ncclLibrary=$nccl" run "nccl: --collective nccl" 60 "$TGPT" "${tiny[@]}" --collective nccl \
    --out "$OUT/nccl-device"
  step_output | tr '\r' '\n' | grep -oE 'gradients summed on the device by [^;]*' | sed "s/^/nccl: /" | tee -a "$SUMMARY"
  TGPT_JAVA_OPTS="$TGPT_JAVA_OPTS -Dtgpt.ncclLibrary=$nccl" run "nccl: --collective nccl --zero 1" 60 "$TGPT" "${tiny[@]}" \
    --collective nccl --zero 1 --out "$OUT/nccl-zero"
  step_output >/dev/null
  for run in device zero; do
    "$PY" - "$OUT/nccl-host/metrics.jsonl" "$OUT/nccl-$run/metrics.jsonl" "$run" <<'PY' | tee -a "$SUMMARY" || failed=1
import json, sys
a, b = ([json.loads(l)["loss"] for l in open(f) if '"loss"' in l] for f in sys.argv[1:3])
ok = len(a) == len(b) == 3 and all(abs(x - y) <= 1e-6 * abs(x) for x, y in zip(a, b))
print(f"nccl ({sys.argv[3]}): losses {b} against {a} without NCCL: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  done
fi

say "gpu-run: $((SECONDS - START)) s in all; $([ $failed -eq 0 ] && echo 'every step passed' || echo 'some steps FAILED: see log.txt')"
exit $failed
