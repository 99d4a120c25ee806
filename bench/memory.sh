#!/usr/bin/env bash
# Memory on this machine: for each configuration, the plan (`--dry-run`), then a short training run under
# /usr/bin/time -v: its peak resident set and its median step time after the first (untimed: the JIT compiles).
# Prints a markdown table. With and without --recompute at GPT-2 124M, B = 8, T = 1024 (the issue's comparison),
# GPT-2 355M and 774M as they fit a 24 GiB machine, and 1.5B, which is refused before anything is allocated.
#   bench/memory.sh [OUT_DIR [MODEL]]    (default runs/memory, every model; about 30 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-runs/memory}
ONLY=${2:-}
command -v /usr/bin/time >/dev/null || { echo "memory: needs GNU time (Debian: apt install time)" >&2; exit 2; }
./tgpt --version >/dev/null # builds once, before anything is measured
rm -rf "$OUT"; mkdir -p "$OUT"

echo "| model | B × T | --recompute | plan (\`--dry-run\`) | peak RSS | step time (median after the first) | result |"
echo "|---|---|---|---|---|---|---|"
for spec in "gpt2-124m:8:1024:6:" "gpt2-124m:8:1024:6:--recompute" "gpt2-355m:4:64:3:" "gpt2-774m:4:64:2:" \
    "gpt2-774m:1:1024:2:" "gpt2-774m:1:1024:2:--recompute" "gpt2-774m:2:1024:2:--recompute" "gpt2-1.5b:1:64:1:"; do
  IFS=: read -r model B T steps flag <<<"$spec"
  [ -z "$ONLY" ] || [ "$model" = "$ONLY" ] || continue
  name="$model-${B}x$T${flag:+-recompute}"
  args=(--model "$model" --tokenizer gpt2 --batch "$B" --context "$T" --steps "$steps" --eval-every 100000 --eval-batches 1
    --sample-tokens 2 --checkpoint-every 100000 --device jvm --out "$OUT/$name" $flag)
  plan=$(./tgpt train "${args[@]}" --dry-run 2>/dev/null | sed -n 's/^memory plan on [^:]*: //p')
  if /usr/bin/time -v -o "$OUT/$name.time" ./tgpt train "${args[@]}" >"$OUT/$name.log" 2>&1; then
    python3 - "$model" "$B" "$T" "$flag" "$plan" "$OUT/$name.time" "$OUT/$name/metrics.jsonl" <<'PY'
import json, re, statistics, sys
model, B, T, flag, plan, timef, metrics = sys.argv[1:8]
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timef).read()).group(1)) / 2**20
steps = [int(B) * int(T) / json.loads(l)["tokens_per_s"] for l in open(metrics)][1:]
print(f"| {model} | {B} × {T} | {'yes' if flag else 'no'} | {plan} | {rss:.1f} GiB | {statistics.median(steps):.1f} s | "
      f"{len(steps) + 1} steps |")
PY
  else
    echo "| $model | $B × $T | $([ -n "$flag" ] && echo yes || echo no) | $plan | — | — | exit $(sed -n 's/.*Exit status: //p' "$OUT/$name.time"): $(grep '^tgpt:' "$OUT/$name.log" | head -1 | cut -c1-160)… |"
  fi
done
