#!/usr/bin/env bash
# Data parallelism on one machine: 2 ranks × 1 thread (mpirun -np 2, each rank bound to a core) against 1 process ×
# 2 threads and 1 process × 1 thread, at the same global batch, for the main job's character model and GPT-2 124M
# (per-rank B = 4, T = 64). Prints a markdown table: tokens/s (median of the timed steps), the all-reduce's share of a
# 2-rank step (comm_s / step_s from metrics.jsonl), the bytes each rank sends per step, and the scaling efficiencies.
#   bench/scale-out.sh [OUT_DIR]        (default runs/scale-out; STEPS=N timed steps, default 8, after 2 untimed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-runs/scale-out}
STEPS=${STEPS:-8}
WARM=2
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
command -v mpirun >/dev/null || { echo "scale-out: needs mpirun (Debian: apt install openmpi-bin libopenmpi-dev)" >&2; exit 2; }
./tgpt --version >/dev/null # builds once, before anything is timed
rm -rf "$OUT"; mkdir -p "$OUT"

# median tokens/s and median comm share over the steps after the warm-up
figures() {
  python3 - "$1" "$WARM" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
tps = statistics.median(r["tokens_per_s"] for r in rows)
share = [r["comm_s"] / r["step_s"] for r in rows if "comm_s" in r]
print(tps, statistics.median(share) if share else "")
PY
}

train() { # NAME LAUNCH... -- ARGS...
  local name=$1; shift
  local launch=()
  while [ "$1" != "--" ]; do launch+=("$1"); shift; done; shift
  "${launch[@]}" ./tgpt train --device jvm --steps $((STEPS + WARM)) --eval-every 100000 --eval-batches 1 --sample-tokens 1 \
    --checkpoint-every 100000 --warmup 0 --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 \
    || { tail -5 "$OUT/$name.log" >&2; exit 1; }
  figures "$OUT/$name/metrics.jsonl"
}

echo "| model | parameters | 1 process × 1 thread, batch 8 | 1 process × 2 threads, batch 8 | 2 ranks × 1 thread, batch 4 each | all-reduce share of a 2-rank step | bytes sent per rank per step | efficiency vs 1×2 threads | efficiency vs 2 × (1×1) |"
echo "|---|---|---|---|---|---|---|---|---|"
for spec in "char:--model shakespeare-char --context 64" "gpt2-124m:--model gpt2 --tokenizer gpt2 --context 64"; do
  name=${spec%%:*}; read -r -a args <<<"${spec#*:}"
  read -r one1 _ < <(train "$name-1x1" taskset -c 0 -- "${args[@]}" --batch 8)
  read -r one2 _ < <(train "$name-1x2" env -- "${args[@]}" --batch 8)
  read -r two share < <(train "$name-2x1" mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4)
  params=$(sed -n 's/.*model: \([0-9,]*\) parameters.*/\1/p' "$OUT/$name-2x1.log" | head -1 | tr -d ,)
  python3 - "$name" "$params" "$one1" "$one2" "$two" "$share" <<'PY'
import sys
name, p, one1, one2, two, share = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:6]), float(sys.argv[6])
# a ring all-reduce sends 2·(N−1)/N of the gradient bytes from each rank
sent = 2 * (2 - 1) / 2 * 4 * p
print(f"| {name} | {p:,} | {one1:,.0f} tok/s | {one2:,.0f} tok/s | {two:,.0f} tok/s | {share:.1%} | {sent / 1e6:,.1f} MB | {two / one2:.2f} | {two / (2 * one1):.2f} |")
PY
done
