#!/usr/bin/env bash
# Serving throughput with continuous batching: `./tgpt serve --max-batch 16` on the JVM backend, and 1, 4 and 16
# clients, each sending completion requests one after another (max_tokens M, temperature 1, a different seed each)
# for S seconds. Prints a markdown table: generated tokens/s over all clients (usage.completion_tokens summed over
# the requests that finished inside the window, over the window), requests done, and the gain over one client.
# Models: the main job's shape (shakespeare-char, random weights: speed does not depend on them) and GPT-2 124M's.
# DEVICE (default jvm) is serve's --device: a TornadoVM device such as 0:0 needs SDK mode (source tornado-env.sh);
# its first request compiles the decoding programs, which the warm-up waits for.
#   bench/serve.sh [OUT_DIR [MODEL [DEVICE]]]   (default runs/serve-bench, both models, jvm; about 10 minutes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-runs/serve-bench}
ONLY=${2:-}
DEVICE=${3:-jvm}
./tgpt --version >/dev/null # builds once, before anything is timed
rm -rf "$OUT"; mkdir -p "$OUT"

load() { # PORT CLIENTS SECONDS MAX_TOKENS PROMPT
  python3 - "$@" <<'PY'
import json, sys, threading, time, urllib.request
port, clients, seconds, max_tokens, prompt = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
done, tokens, lock = [0], [0], threading.Lock()
start = time.time()
end = start + seconds
def client(c):
    i = 0
    while True:
        body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 1, "seed": c * 100000 + i}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", body, {"Content-Type": "application/json"})
        r = json.load(urllib.request.urlopen(req, timeout=600))
        if time.time() > end:
            return
        with lock:
            done[0] += 1
            tokens[0] += r["usage"]["completion_tokens"]
        i += 1
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(tokens[0] / seconds, done[0])
PY
}

echo "| model | parameters | device | clients | tokens/s (all clients) | requests done | × one client |"
echo "|---|---|---|---|---|---|---|"
for spec in "shakespeare-char:char:48:60:ROMEO:" "gpt2-124m:gpt2:32:90:The meaning of life is"; do
  IFS=: read -r model tok max seconds prompt <<<"$spec"
  [ -z "$ONLY" ] || [ "$model" = "$ONLY" ] || continue
  ./tgpt train --model "$model" --tokenizer "$tok" --context 64 --batch 1 --steps 1 --eval-every 1 --eval-batches 1 --sample-tokens 1 \
    --device jvm --out "$OUT/$model" >"$OUT/$model.train.log" 2>&1
  params=$(sed -n 's/.*model: \([0-9,]*\) parameters.*/\1/p' "$OUT/$model.train.log" | head -1)
  ./tgpt serve --model "$OUT/$model/checkpoint" --port 0 --max-batch 16 --device "$DEVICE" 2>"$OUT/$model.serve.log" &
  pid=$!
  for _ in $(seq 1 120); do port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/v1.*|\1|p' "$OUT/$model.serve.log"); [ -n "$port" ] && break; sleep 1; done
  load "$port" 1 10 "$max" "$prompt" >/dev/null # warm-up: the JIT compiles
  one=
  for clients in 1 4 16; do
    read -r tps n < <(load "$port" "$clients" "$seconds" "$max" "$prompt")
    one=${one:-$tps}
    python3 -c "import sys; m, p, d, c, t, n, o = sys.argv[1:]; print(f'| {m} | {p} | {d} | {c} | {float(t):,.1f} | {n} | {float(t) / float(o):.1f}× |')" \
      "$model" "$params" "$DEVICE" "$clients" "$tps" "$n" "$one"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
