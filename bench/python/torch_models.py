"""PyTorch twins of tgpt's model cases (dev.tgpt.bench.ModelCases), for torch_bench.py.

The model is GPT-2 as nanoGPT's model.py writes it (LayerNorm with bias, GELU tanh, the output layer tied to wte,
causal attention: F.scaled_dot_product_attention where torch has it, else matmul-softmax-matmul), built from a
case's params: L layers, H heads, C wide, context T, vocabulary V. Weights are random with GPT-2's initialisation,
as tgpt's are: timings do not depend on them.

  train_step (B): one optimizer step on a fixed random batch of B x T tokens: zero_grad, forward with the loss,
                  backward, AdamW (lr 3e-4, betas (0.9, 0.99), weight decay 0.1 on matrices and embeddings).
                  With R: LoRA adapters of rank R (alpha 2R) on every block's four nn.Linear layers as PEFT's
                  LoraLayer computes them, everything else frozen, AdamW on the adapters alone.
  prefill (P, W): the time to the first token of a P-token prompt, batch 1, with a KV cache, weights as decode's.
  decode (P, N, W): one position of batch-1 greedy decoding with a KV cache, weights of W bits (32; 16: bf16; 8: int8
                  by dynamic quantization); successive calls feed a P-token prompt,
                  then generate N tokens, then start again, so the mean is over the same positions as tgpt's.

load_llmc(path) reads llm.c's fp32 model file (which tgpt writes with LlmcCheckpoint.write) into this model, so that
both sides can be checked to compute the same loss on the same weights.
"""
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

SDPA = hasattr(F, "scaled_dot_product_attention")


class Block(nn.Module):

    def __init__(self, H, C, T):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.attn_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.register_buffer("mask", torch.ones(T, T, dtype=torch.bool).tril(), persistent=False)

    def attention(self, x, cache, pos):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        # one new position sees every cached key, so needs no mask; several (a prefill from position 0) are causal
        causal = T > 1
        if cache is not None:
            # keys and values of every position so far
            kc, vc = cache
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            k, v = kc[:, :, :pos + T], vc[:, :, :pos + T]
        if SDPA:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            if causal:
                att = att.masked_fill(~self.mask[:T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.attn_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x, cache=None, pos=0):
        x = x + self.attention(self.ln_1(x), cache, pos)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):

    def __init__(self, L, H, C, T, V):
        super().__init__()
        self.L, self.H, self.C, self.T, self.V = L, H, C, T, V
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList(Block(H, C, T) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        # GPT-2's initialisation (and tgpt's): N(0, 0.02²), residual projections scaled by 1/√(2L), biases 0
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx, targets=None, cache=None, pos=0):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(pos, pos + T, device=idx.device))
        for i, block in enumerate(self.h):
            x = block(x, None if cache is None else cache[i], pos)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # the output layer is wte
        loss = None if targets is None else F.cross_entropy(logits.view(-1, self.V), targets.view(-1))
        return logits, loss


def model(p, device):
    torch.manual_seed(0)
    return GPT(p["L"], p["H"], p["C"], p["T"], p["V"]).to(device)


def adamw(m, lr=3e-4):
    """AdamW as the cases run it: betas (0.9, 0.99), weight decay 0.1 on matrices and embeddings, not on biases and
    layer norms (nanoGPT's groups, and tgpt's)."""
    trained = [t for t in m.parameters() if t.requires_grad]
    decay = [t for t in trained if t.dim() >= 2]
    no_decay = [t for t in trained if t.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=lr,
                             betas=(0.9, 0.99), eps=1e-8)


class LoraLinear(nn.Module):
    """PEFT's LoraLayer forward on a frozen nn.Linear: base(x) + scaling * lora_B(lora_A(x)), scaling = alpha / r,
    lora_A Kaiming-uniform (a = sqrt(5)) and lora_B zero, as PEFT initialises them."""

    def __init__(self, base, r):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, r, bias=False, device=base.weight.device)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, device=base.weight.device)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = 2.0  # alpha = 2r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def with_lora(m, r):
    """m with every block's four matmuls adapted and all else frozen (in place)."""
    m.requires_grad_(False)
    for block in m.h:
        for name in ("c_attn", "attn_proj", "c_fc", "mlp_proj"):
            setattr(block, name, LoraLinear(getattr(block, name), r))
    return m


def train_step(p, device):
    m = model(p, device)
    B, T, V, R = p["B"], p["T"], p["V"], p.get("R", 0)
    if R:
        m = with_lora(m, R)
    opt = adamw(m)
    g = torch.Generator().manual_seed(2)
    x = torch.randint(V, (B, T), generator=g).to(device)
    y = torch.randint(V, (B, T), generator=g).to(device)

    def run():
        with torch.enable_grad():
            opt.zero_grad(set_to_none=True)
            _, loss = m(x, y)
            loss.backward()
            opt.step()

    return run, "nanoGPT's GPT-2, %s attention; one step: zero_grad, forward with the loss, backward, AdamW (lr 3e-4, betas " \
                "0.9/0.99, weight decay 0.1); no clipping; a fixed random batch of B x T tokens%s" % (
                    "SDPA" if SDPA else "unfused", "; LoRA of rank R (alpha 2R) on every block's nn.Linear layers, the rest frozen" if R else "")


def decode(p, device):
    P, N, V = p["P"], p["N"], p["V"]
    m, dtype, weights = with_weights(model(p, device).eval(), p.get("W", 32))
    cache = kv_cache(m, device, dtype)
    prompt = torch.randint(1, V, (P,), generator=torch.Generator().manual_seed(3)).tolist()
    steps = P - 1 + N
    state = {"pos": 0, "token": prompt[0]}

    def run():
        pos = state["pos"]
        with torch.no_grad():
            logits, _ = m(torch.tensor([[state["token"]]], device=device), cache=cache, pos=pos)
        if pos + 1 < P:
            state["token"] = prompt[pos + 1]
        else:
            state["token"] = int(logits[0, -1].argmax())  # greedy, as tgpt's case: the token comes back to the host
        state["pos"] = (pos + 1) % steps
        if state["pos"] == 0:
            state["token"] = prompt[0]

    return run, "nanoGPT's GPT-2, %s attention; batch 1, greedy, KV cache; a call is one position of a P-token prompt then " \
                "N generated tokens; weights %s" % ("SDPA" if SDPA else "unfused", weights)


def with_weights(m, W):
    """The model with its weights held in W bits, the activations' dtype, and words for the report."""
    if W == 16:
        return m.to(torch.bfloat16), torch.bfloat16, "bf16 (model.to(torch.bfloat16))"
    if W == 8:
        # dynamic int8 quantization of the nn.Linear layers (per-tensor weight scales); the output layer is F.linear
        # with wte and stays fp32
        return (torch.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8), torch.float32,
                "int8 (torch.quantization.quantize_dynamic on nn.Linear; the tied output layer stays fp32)")
    return m, torch.float32, "fp32"


def prefill(p, device):
    P, V = p["P"], p["V"]
    m, dtype, weights = with_weights(model(p, device).eval(), p.get("W", 32))
    cache = kv_cache(m, device, dtype)
    prompt = torch.randint(1, V, (1, P), generator=torch.Generator().manual_seed(6)).to(device)

    def run():
        with torch.no_grad():
            m(prompt[:, :-1], cache=cache, pos=0)  # the prompt but its last token into the cache
            logits, _ = m(prompt[:, -1:], cache=cache, pos=P - 1)
        int(logits[0, -1].argmax())

    return run, "nanoGPT's GPT-2, %s attention; batch 1: the prompt but its last token in one forward pass writing the KV " \
                "cache, then the last token; the time to the first token; weights %s" % ("SDPA" if SDPA else "unfused", weights)


def kv_cache(m, device, dtype=torch.float32):
    """Batch 1's keys and values, per layer, for the whole context."""
    shape = (1, m.H, m.T, m.C // m.H)
    return [(torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype)) for _ in range(m.L)]


def load_llmc(path, device="cpu"):
    """llm.c's fp32 model file (train_gpt2.py's write_model) into a GPT; wte's padding rows are dropped."""
    with open(path, "rb") as f:
        header = struct.unpack("<256i", f.read(1024))
        assert header[0] == 20240326 and header[1] == 3, "not an fp32 llm.c model file"
        T, V, L, H, C, Vp = header[2:8]
        data = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    m = GPT(L, H, C, T, V)
    at = 0

    def take(*shape):
        nonlocal at
        n = math.prod(shape)
        t = data[at:at + n].view(*shape)
        at += n
        return t

    with torch.no_grad():
        m.wte.weight.copy_(take(Vp, C)[:V])
        m.wpe.weight.copy_(take(T, C))
        # each per-layer tensor stacked over the layers, in llm.c's order; Linear weights are [out, in] as llm.c's
        for attr, shape in [("ln_1.weight", (C,)), ("ln_1.bias", (C,)), ("c_attn.weight", (3 * C, C)), ("c_attn.bias", (3 * C,)),
                            ("attn_proj.weight", (C, C)), ("attn_proj.bias", (C,)), ("ln_2.weight", (C,)), ("ln_2.bias", (C,)),
                            ("c_fc.weight", (4 * C, C)), ("c_fc.bias", (4 * C,)), ("mlp_proj.weight", (C, 4 * C)), ("mlp_proj.bias", (C,))]:
            for block in m.h:
                block.get_parameter(attr).copy_(take(*shape))
        m.ln_f.weight.copy_(take(C))
        m.ln_f.bias.copy_(take(C))
    assert at == data.numel(), "the file is longer than its header says"
    return m.to(device)


CASES = {"train_step": train_step, "decode": decode, "prefill": prefill}
