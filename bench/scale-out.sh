#!/usr/bin/env bash
# Data parallelism on one machine: 2 ranks × 1 thread (mpirun -np 2, each rank bound to a core; plain and --zero 1)
# against 1 process × 2 threads and 1 process × 1 thread, at the same global batch, for the main job's character model
# and GPT-2 124M (per-rank B = 4, T = 64); and the 2-rank runs again with the exchange overlapping the backward
# (--overlap on). Prints a markdown table: tokens/s (median of the timed steps), the exchange's share of a 2-rank step
# (comm_s / step_s from metrics.jsonl: the time the step waits for it), the bytes each rank sends per step, and the
# scaling efficiencies.
#   bench/scale-out.sh [OUT_DIR]        (default runs/scale-out)
# SCALE_OUT_ROUNDS=R instead runs GPT-2 124M alone, side by side in R rounds (1 process × 2 threads, 2 ranks, 2 ranks
# with --zero 1, one after another in each round): tokens/s and the efficiencies per round, and their medians.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-runs/scale-out}
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
command -v mpirun >/dev/null || { echo "scale-out: needs mpirun (Debian: apt install openmpi-bin libopenmpi-dev)" >&2; exit 2; }
./tgpt --version >/dev/null # builds once, before anything is timed
rm -rf "$OUT"; mkdir -p "$OUT"

# median tokens/s and median comm share over the steps after the warm-up
figures() { # METRICS WARM
  python3 - "$1" "$2" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
tps = statistics.median(r["tokens_per_s"] for r in rows)
share = [r["comm_s"] / r["step_s"] for r in rows if "comm_s" in r]
print(tps, statistics.median(share) if share else "")
PY
}

train() { # NAME WARM STEPS LAUNCH... -- ARGS...: WARM untimed steps (the JIT compiles), then STEPS timed
  local name=$1 warm=$2 steps=$3; shift 3
  local launch=()
  while [ "$1" != "--" ]; do launch+=("$1"); shift; done; shift
  "${launch[@]}" ./tgpt train --device jvm --steps $((warm + steps)) --eval-every 100000 --eval-batches 1 --sample-tokens 1 \
    --checkpoint-every 100000 --warmup 0 --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 \
    || { tail -5 "$OUT/$name.log" >&2; exit 1; }
  figures "$OUT/$name/metrics.jsonl" "$warm"
}

if [ -n "${SCALE_OUT_ROUNDS:-}" ]; then
  args=(--model gpt2 --tokenizer gpt2 --context 64)
  echo "| round | 1 process × 2 threads, batch 8 | 2 ranks × 1 thread, batch 4 each | the same, --zero 1 | efficiency (plain, ZeRO-1) |"
  echo "|---|---|---|---|---|"
  effs=()
  for r in $(seq 1 "$SCALE_OUT_ROUNDS"); do
    read -r one2 _ < <(train "r$r-1x2" 3 8 env -- "${args[@]}" --batch 8)
    read -r two _ < <(train "r$r-2x1" 3 8 mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4)
    read -r zero _ < <(train "r$r-2x1-zero" 3 8 mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4 --zero 1)
    line=$(python3 -c "import sys; a, b, c = map(float, sys.argv[1:]); print(f'{a:.1f} | {b:.1f} | {c:.1f} | {b / a:.2f}, {c / a:.2f} |')" "$one2" "$two" "$zero")
    echo "| $r | $line"
    effs+=("$one2:$two:$zero")
  done
  python3 - "${effs[@]}" <<'PY'
import statistics, sys
rows = [tuple(map(float, a.split(":"))) for a in sys.argv[1:]]
med = lambda i: statistics.median(r[i] for r in rows)
plain = statistics.median(r[1] / r[0] for r in rows)
zero = statistics.median(r[2] / r[0] for r in rows)
print(f"| median | {med(0):.1f} | {med(1):.1f} | {med(2):.1f} | {plain:.2f}, {zero:.2f} |")
PY
  exit 0
fi

echo "| model | parameters | 1 process × 1 thread, batch 8 | 1 process × 2 threads, batch 8 | 2 ranks × 1 thread, batch 4 each | the same, --zero 1 | 2 ranks, --overlap on (plain, ZeRO-1) | exchange's share of a 2-rank step (plain, ZeRO-1; overlapped) | bytes sent per rank per step | efficiency vs 1 × 2 threads (plain, ZeRO-1) | efficiency vs 2 × (1 × 1) (plain, ZeRO-1) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
# the char model's steps are short: more of them, after a longer warm-up (C2 shares a rank's one core)
for spec in "char:40:60:--model shakespeare-char --context 64" "gpt2-124m:3:8:--model gpt2 --tokenizer gpt2 --context 64"; do
  IFS=: read -r name warm steps rest <<<"$spec"; read -r -a args <<<"$rest"
  read -r one1 _ < <(train "$name-1x1" "$warm" "$steps" taskset -c 0 -- "${args[@]}" --batch 8)
  read -r one2 _ < <(train "$name-1x2" "$warm" "$steps" env -- "${args[@]}" --batch 8)
  read -r two share < <(train "$name-2x1" "$warm" "$steps" mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4)
  read -r zero zshare < <(train "$name-2x1-zero" "$warm" "$steps" mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4 --zero 1)
  read -r over oshare < <(train "$name-2x1-overlap" "$warm" "$steps" mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4 --overlap on)
  read -r zover zoshare < <(train "$name-2x1-zero-overlap" "$warm" "$steps" mpirun -np 2 --bind-to core -- "${args[@]}" --batch 4 --zero 1 --overlap on)
  params=$(sed -n 's/.*model: \([0-9,]*\) parameters.*/\1/p' "$OUT/$name-2x1.log" | head -1 | tr -d ,)
  python3 - "$name" "$params" "$one1" "$one2" "$two" "$zero" "$share" "$zshare" "$over" "$zover" "$oshare" "$zoshare" <<'PY'
import sys
name, p = sys.argv[1], int(sys.argv[2])
one1, one2, two, zero, share, zshare, over, zover, oshare, zoshare = map(float, sys.argv[3:13])
# a ring all-reduce sends 2·(N−1)/N of the gradient bytes from each rank; reduce-scatter and all-gather half that each
sent = 2 * (2 - 1) / 2 * 4 * p
print(f"| {name} | {p:,} | {one1:,.0f} tok/s | {one2:,.0f} tok/s | {two:,.0f} tok/s | {zero:,.0f} tok/s | {over:,.0f}, {zover:,.0f} tok/s "
      f"| {share:.1%}, {zshare:.1%}; {oshare:.1%}, {zoshare:.1%} "
      f"| {sent / 1e6:,.1f} MB | {two / one2:.2f}, {zero / one2:.2f} | {two / (2 * one1):.2f}, {zero / (2 * one1):.2f} |")
PY
done
