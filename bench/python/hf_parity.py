#!/usr/bin/env python3
"""GPT-2 parity against Hugging Face transformers' own GPT2LMHeadModel: logits, loss and every gradient of one
forward and backward pass, tgpt (`tgpt grads`, on any device) against transformers (in float32; on CUDA with TF32 off
where there is a GPU, else on the CPU).

    hf_parity.py --tgpt "./tgpt" --device 0:0 --out DIR [--layers 2,12]

For each depth it builds a randomly initialised GPT2LMHeadModel with shapes chosen to catch layout mistakes (an odd
vocabulary, 1,001; a head size that is odd and not a power of two, 25: 4 heads of a 100-wide model; T = 37), moves
every layer norm's weight and every bias away from 1 and 0, saves it with save_pretrained (what tgpt reads), and a
batch of random input_ids and targets (int32 safetensors). tgpt's output (logits [B,T,V], loss [1], grad.<HF name>)
is compared with transformers' logits, cross-entropy and autograd gradients (wte's includes the tied output
layer's). Tolerances, as issue 19 states them: logits within 1e-4 (absolute; they are O(1) here), every gradient
tensor within 1e-3 of its largest magnitude (relative): float32 sums in another order differ in the last bits,
a wrong layout or a missing term by far more. One line per depth; exit 1 if any fails.
Needs torch, transformers and safetensors (the GPU machine has them; here: a venv with transformers).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel

V, C, NH, NPOS, B, T = 1001, 100, 4, 64, 4, 37
LOGITS_TOL, GRAD_TOL = 1e-4, 1e-3


def model(layers, seed):
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=V, n_positions=NPOS, n_embd=C, n_layer=layers, n_head=NH, activation_function="gelu_new",
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5, tie_word_embeddings=True,
                        bos_token_id=0, eos_token_id=0)
    m = GPT2LMHeadModel(config).float().eval()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif ".ln_" in name or "ln_f" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    return m


def reference(m, ids, targets, device):
    m = m.to(device)
    m.zero_grad()
    logits = m(input_ids=ids.to(device)).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.to(device).reshape(-1).long())
    loss.backward()
    grads = {name: p.grad.detach().cpu() for name, p in m.named_parameters()}
    return logits.detach().cpu(), loss.item(), grads


def compare(layers, tgpt, device, out):
    d = os.path.join(out, "gpt2-%dl" % layers)
    os.makedirs(d, exist_ok=True)
    m = model(layers, 1000 + layers)
    m.save_pretrained(os.path.join(d, "model"), safe_serialization=True)
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, V, (B, T), generator=g, dtype=torch.int32)
    targets = torch.randint(0, V, (B, T), generator=g, dtype=torch.int32)
    save_file({"input_ids": ids, "targets": targets}, os.path.join(d, "batch.safetensors"))
    cmd = shlex.split(tgpt) + ["grads", "--model", os.path.join(d, "model"), "--batch", os.path.join(d, "batch.safetensors"), "--out",
                               os.path.join(d, "tgpt.safetensors"), "--device", device]
    t0 = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.time() - t0
    if run.returncode != 0:
        return {"layers": layers, "ok": False, "error": (run.stderr or run.stdout).strip().splitlines()[-1:], "seconds": seconds}
    ours = load_file(os.path.join(d, "tgpt.safetensors"))
    where = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    logits, loss, grads = reference(m, ids, targets, where)
    logits_err = (ours["logits"].reshape(logits.shape) - logits).abs().max().item()
    worst, worst_name, missing = 0.0, None, []
    for name, ref in grads.items():
        key = "grad." + name
        if key not in ours:
            missing.append(name)
            continue
        err = (ours[key].reshape(ref.shape) - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30)
        if err > worst:
            worst, worst_name = err, name
    ok = logits_err <= LOGITS_TOL and worst <= GRAD_TOL and not missing and abs(ours["loss"].item() - loss) <= LOGITS_TOL
    return {"layers": layers, "ok": ok, "reference": "transformers %s on %s" % (__import__("transformers").__version__, where),
            "loss_tgpt": ours["loss"].item(), "loss_hf": loss, "logits_max_abs_diff": logits_err, "grad_worst_rel_diff": worst,
            "grad_worst_tensor": worst_name, "missing_grads": missing, "tensors": len(grads), "seconds": seconds}


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--tgpt", required=True, help="how to run tgpt, e.g. ./tgpt or BUNDLE/bin/tgpt")
    a.add_argument("--device", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--layers", default="2,12")
    args = a.parse_args()
    results = [compare(int(l), args.tgpt, args.device, args.out) for l in args.layers.split(",")]
    for r in results:
        if "error" in r:
            print("hf_parity %d layers on %s: FAILED to run tgpt: %s" % (r["layers"], args.device, " ".join(r["error"])))
        else:
            print("hf_parity %d layers on %s against %s: loss %.6f vs %.6f, logits max abs diff %.2e (tol %.0e), worst gradient %.2e "
                  "relative (%s; tol %.0e), %d tensors%s: %s" % (r["layers"], args.device, r["reference"], r["loss_tgpt"], r["loss_hf"],
                                                                r["logits_max_abs_diff"], LOGITS_TOL, r["grad_worst_rel_diff"], r["grad_worst_tensor"],
                                                                GRAD_TOL, r["tensors"], ", missing " + ",".join(r["missing_grads"]) if r["missing_grads"] else "",
                                                                "PASS" if r["ok"] else "FAIL"))
    with open(os.path.join(args.out, "hf_parity.json"), "w") as f:
        json.dump(results, f, indent=2)
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
