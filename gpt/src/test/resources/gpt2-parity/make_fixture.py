#!/usr/bin/env python3
"""GPT-2 parity fixture for tgpt: a small random GPT-2 saved as Hugging Face's save_pretrained saves
GPT2LMHeadModel (config.json + model.safetensors), a batch, and what the model computes for it.

Run from the repo root with Debian's python3-torch (1.13, CPU; Debian has no transformers package):
    /usr/bin/python3 gpt/src/test/resources/gpt2-parity/make_fixture.py
The model below is GPT2LMHeadModel's computation written out in PyTorch, in HF's tensor names and layouts (Conv1D
weights stored [in, out]): pre-LN blocks, gelu_new (the tanh form), layer-norm eps 1e-5, attention scaled by
1/sqrt(head size) with a causal mask, a final LN, the output layer tied to wte, dropout off. It runs in float64; the
saved tensors are float32. Where transformers is installed (the GPU machine), --check-transformers loads the saved
directory with GPT2LMHeadModel and compares its logits and gradients with ours.

Shapes are chosen to catch layout mistakes: an odd vocabulary (101), a head size that is not a power of two
(C = 36, 3 heads of 12), T = 13 (not a multiple of 8), layer-norm weights and every bias perturbed away from 1 and 0.
Writes: model/config.json, model/model.safetensors, batch.safetensors (input_ids, targets: int32 [B, T]) and
expected.safetensors (logits [B, T, V], loss [1], grad.<HF name> for every parameter).
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
V, NPOS, C, L, NH, B, T = 101, 16, 36, 2, 3, 2, 13
torch.manual_seed(2024)


def save_safetensors(path, tensors, meta=None):
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        t = tensors[key].detach().contiguous()
        t = t.to(torch.int32) if t.dtype in (torch.int32, torch.int64) else t.to(torch.float32)
        raw = t.numpy().tobytes()
        header[key] = {"dtype": "I32" if t.dtype == torch.int32 else "F32", "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if meta:
        header["__metadata__"] = meta
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def params():
    p = {"transformer.wte.weight": torch.randn(V, C) * 0.1, "transformer.wpe.weight": torch.randn(NPOS, C) * 0.1}
    for l in range(L):
        h = "transformer.h.%d." % l
        p[h + "ln_1.weight"] = 1 + 0.2 * torch.randn(C)
        p[h + "ln_1.bias"] = 0.1 * torch.randn(C)
        p[h + "attn.c_attn.weight"] = torch.randn(C, 3 * C) * 0.1
        p[h + "attn.c_attn.bias"] = 0.1 * torch.randn(3 * C)
        p[h + "attn.c_proj.weight"] = torch.randn(C, C) * 0.1
        p[h + "attn.c_proj.bias"] = 0.1 * torch.randn(C)
        p[h + "ln_2.weight"] = 1 + 0.2 * torch.randn(C)
        p[h + "ln_2.bias"] = 0.1 * torch.randn(C)
        p[h + "mlp.c_fc.weight"] = torch.randn(C, 4 * C) * 0.1
        p[h + "mlp.c_fc.bias"] = 0.1 * torch.randn(4 * C)
        p[h + "mlp.c_proj.weight"] = torch.randn(4 * C, C) * 0.1
        p[h + "mlp.c_proj.bias"] = 0.1 * torch.randn(C)
    p["transformer.ln_f.weight"] = 1 + 0.2 * torch.randn(C)
    p["transformer.ln_f.bias"] = 0.1 * torch.randn(C)
    return {k: v.to(torch.float32) for k, v in p.items()}  # what the file holds


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(p, ids):
    ln = lambda x, w, b: torch.nn.functional.layer_norm(x, (C,), w, b, eps=1e-5)
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:T]
    hs = C // NH
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(L):
        h = "transformer.h.%d." % l
        a = ln(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]  # Conv1D: x·W + b, W [in, out]
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in qkv.split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = torch.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        m = ln(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        m = gelu_new(m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + m @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    x = ln(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"])
    return x @ p["transformer.wte.weight"].t()


def main():
    stored = params()
    os.makedirs(os.path.join(HERE, "model"), exist_ok=True)
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": V, "n_positions": NPOS, "n_ctx": NPOS,
              "n_embd": C, "n_layer": L, "n_head": NH, "n_inner": None, "activation_function": "gelu_new",
              "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-05, "initializer_range": 0.02,
              "tie_word_embeddings": True, "bos_token_id": 0, "eos_token_id": 0}
    with open(os.path.join(HERE, "model", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(os.path.join(HERE, "model", "model.safetensors"), stored, {"format": "pt"})

    ids = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    save_safetensors(os.path.join(HERE, "batch.safetensors"), {"input_ids": ids, "targets": targets})

    p = {k: v.to(torch.float64).requires_grad_() for k, v in stored.items()}
    logits = forward(p, ids)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, V), targets.view(-1))
    loss.backward()
    expected = {"logits": logits, "loss": loss.reshape(1)}
    expected.update({"grad." + k: t.grad for k, t in p.items()})
    save_safetensors(os.path.join(HERE, "expected.safetensors"), expected)
    print("loss %.6f; fixture written to %s" % (loss.item(), HERE))
    if "--check-transformers" in sys.argv:
        check_transformers(ids, targets, logits, p)


def check_transformers(ids, targets, logits, p):
    from transformers import GPT2LMHeadModel
    model = GPT2LMHeadModel.from_pretrained(os.path.join(HERE, "model")).double().eval()
    out = model(input_ids=ids)
    ce = torch.nn.functional.cross_entropy(out.logits.view(-1, V), targets.view(-1))
    ce.backward()
    print("transformers vs fixture: logits max abs diff %.3g" % (out.logits - logits).abs().max().item())
    names = dict(model.named_parameters())
    worst = max((names[k].grad - t.grad).abs().max().item() / t.grad.abs().max().item() for k, t in p.items())
    print("transformers vs fixture: worst gradient relative diff %.3g" % worst)


if __name__ == "__main__":
    main()
