#!/usr/bin/env python3
"""PyTorch twins of tgpt's kernel cases (dev.tgpt.bench.KernelCases), for torch_bench.py.

CASES maps each case name to make(params, device): it allocates float32 inputs on the device, uniform in [-1, 1)
like KernelCases (probabilities and reciprocal deviations in (0, 1]), and returns a function of no arguments that
runs the case once, as a PyTorch user would write it (out= and in-place adds where PyTorch has them), or that
function and a note for the report where the comparison needs one. Like ours, every backward adds into its
gradients. Each twin's comment gives the math it mirrors; the kernels' javadoc (kernels/src/main/java/dev/tgpt/
kernels) has ours.

  python3 torch_kernels.py --selfcheck    checks every twin at tiny shapes against autograd or a naive formula
"""
import inspect
import math
import sys

import torch
import torch.nn.functional as F

LN_EPS = 1e-5  # dev.tgpt.kernels.LayerNorm.EPS
SOFTMAX_SCALE = 0.125  # the scale KernelCases gives the softmax cases (1/√64)
ADAMW = dict(lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)  # KernelCases' hyperparameters, at step 10
ADAMW_STEP = 10


# ---- the twins: the same math as our launches, on tensors of any float dtype (float64 in the self-check) ----

def matmul_forward(out, inp, w, b):
    # out[N,OC] = inp[N,C]·Wᵀ + b, W [OC,C] (nn.Linear's layout); F.linear with out=
    torch.addmm(b, inp, w.t(), out=out)


def matmul_backward(dinp, dw, db, dout, inp, w):
    # dinp += dout·W;  dW += doutᵀ·inp;  db += Σ_n dout[n,·]
    dinp.addmm_(dout, w)
    dw.addmm_(dout.t(), inp)
    db.add_(dout.sum(0))


def layernorm_forward(x, w, b):
    # y = (x − μ)·rstd·w + b, rstd = 1/√(var + ε) over rows of C; returns y and the kept μ, rstd [N, 1]
    return torch.native_layer_norm(x, (x.shape[-1],), w, b, LN_EPS)


def layernorm_backward(dx, dw, db, dy, x, w, b, mean, rstd):
    # g = dy·w;  dx += rstd·(g − mean(g) − x̂·mean(g·x̂));  dw += Σ_rows dy·x̂;  db += Σ_rows dy  (from the kept μ, rstd)
    gx, gw, gb = torch.ops.aten.native_layer_norm_backward(dy, x, (x.shape[-1],), mean, rstd, w, b, [True, True, True])
    dx.add_(gx)
    dw.add_(gw)
    db.add_(gb)


def gelu_forward(out, x):
    # y = x·½(1 + tanh(√(2/π)·(x + 0.044715·x³))); F.gelu(approximate='tanh') with out=
    torch._C._nn.gelu(x, approximate="tanh", out=out)


def gelu_backward(dx, dy, x):
    # dx += dy·y'(x)
    dx.add_(torch.ops.aten.gelu_backward(dy, x, approximate="tanh"))


def residual_forward(out, a, b):
    torch.add(a, b, out=out)


def residual_backward(da, db, dout):
    # da += dout;  db += dout
    da.add_(dout)
    db.add_(dout)


def embedding_forward(out, tokens, wte, wpe):
    # out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]
    B, T = tokens.shape
    torch.index_select(wte, 0, tokens.view(-1), out=out.view(B * T, -1))
    out.add_(wpe[:T])


def embedding_backward(dwte, dwpe, dout, tokens):
    # dwte[v,:] += Σ_{token[b,t] = v} dout[b,t,:];  dwpe[t,:] += Σ_b dout[b,t,:]
    T = tokens.shape[1]
    dwte.index_add_(0, tokens.view(-1), dout.view(-1, dout.shape[-1]))
    dwpe[:T].add_(dout.sum(0))


def crossentropy_forward(losses, lse, logits, targets):
    # lse_n = log Σ_j exp(x_nj) (kept for backward);  loss_n = lse_n − x_n,target
    torch.logsumexp(logits, 1, out=lse)
    torch.sub(lse, logits.gather(1, targets[:, None]).squeeze(1), out=losses)


def crossentropy_backward(dlogits, logits, lse, targets, dloss):
    # dx_nj += (exp(x_nj − lse_n) − [j = target_n])·dloss_n
    p = (logits - lse[:, None]).exp_()
    p[torch.arange(len(targets), device=p.device), targets] -= 1
    dlogits.addcmul_(p, dloss[:, None])


def causal_mask(T, device):
    """True where query t may not attend to key t2 (t2 > t)."""
    return torch.ones(T, T, dtype=torch.bool, device=device).triu_(1)


def strided_mask(T, l, device):
    """True where SparseAttention.STRIDED(l) forbids the pair: not (t2 ≤ t and (t − t2 < l or (t − t2) mod l = 0))."""
    i = torch.arange(T, device=device)
    gap = i[:, None] - i[None, :]
    return ~((gap >= 0) & ((gap < l) | (gap % l == 0)))


def softmax_forward(y, x, scale, masked):
    # rows of T, row r is query t = r mod T: y = softmax(scale·x) over the unmasked columns, 0 elsewhere
    T = x.shape[-1]
    s = torch.mul(x.view(-1, T, T), scale).masked_fill_(masked, -math.inf)
    torch._softmax(s, -1, False, out=y.view(-1, T, T))


def softmax_backward(dx, dy, y, scale):
    # dx += scale·y⊙(dy − Σ y·dy)  (y = 0 where masked)
    dx.add_(torch._softmax_backward_data(dy, y, -1, y.dtype), alpha=scale)


def heads(x, H):
    """[B, T, H·d] → a [B, H, T, d] view of the same memory."""
    B, T, _ = x.shape
    return x.view(B, T, H, -1).transpose(1, 2)


def attention_forward(out, qkv, H, masked):
    # qkv [B,T,3C] (q | k | v), H heads of d: att = softmax(q·kᵀ/√d, masked → 0), out = att·v; returns att [B,H,T,T]
    q, k, v = (heads(x, H) for x in qkv.chunk(3, dim=2))
    s = torch.matmul(q, k.transpose(-2, -1)).mul_(1 / math.sqrt(q.shape[-1])).masked_fill_(masked, -math.inf)
    att = torch._softmax(s, -1, False)
    heads(out, H).copy_(torch.matmul(att, v))
    return att


def attention_backward(dqkv, dout, qkv, att, H):
    # datt = dout·vᵀ;  dpre = att⊙(datt − Σ att·datt);  dq += dpre·k/√d;  dk += dpreᵀ·q/√d;  dv += attᵀ·dout
    q, k, v = (heads(x, H) for x in qkv.chunk(3, dim=2))
    dq, dk, dv = (heads(x, H) for x in dqkv.chunk(3, dim=2))
    do = heads(dout, H)
    scale = 1 / math.sqrt(q.shape[-1])
    dv.add_(torch.matmul(att.transpose(-2, -1), do))
    dpre = torch._softmax_backward_data(torch.matmul(do, v.transpose(-2, -1)), att, -1, att.dtype)
    dq.add_(torch.matmul(dpre, k), alpha=scale)
    dk.add_(torch.matmul(dpre.transpose(-2, -1), q), alpha=scale)


def adamw(p, grads, m, v):
    """torch.optim.AdamW over the one tensor p at step ADAMW_STEP, moments m and v: returns (optimizer, "fused" or
    "foreach"); each optimizer.step() is one update (the step count goes on from there)."""
    p.grad = grads
    p0 = p.detach().clone()
    supported = inspect.signature(torch.optim.AdamW).parameters
    # fused (torch._fused_adamw_, one kernel) where this torch has it for CUDA, else foreach (the default on CUDA)
    for how in ("fused", "foreach"):
        if how in supported and (how != "fused" or p.is_cuda):
            try:
                opt = torch.optim.AdamW([p], **ADAMW, **{how: True})
                opt.step()  # creates the state in this version's layout; then it is set to ours
                break
            except (RuntimeError, TypeError):  # fused may refuse a device or dtype: fall back to foreach
                pass
    else:
        raise RuntimeError("torch.optim.AdamW runs neither fused nor foreach here")
    p.detach().copy_(p0)
    state = opt.state[p]
    state["exp_avg"].copy_(m)
    state["exp_avg_sq"].copy_(v)
    if torch.is_tensor(state["step"]):
        state["step"].fill_(ADAMW_STEP - 1)
    else:
        state["step"] = ADAMW_STEP - 1
    return opt, how


# ---- the cases: inputs as KernelCases allocates them ----

def rand(dev, *shape):
    return torch.rand(*shape, device=dev) * 2 - 1


def positive(dev, *shape):
    return 1 - torch.rand(*shape, device=dev)


def tokens(dev, n, V):
    return torch.randint(V, (n,), device=dev)


def make_matmul_forward(p, dev):
    N, C, OC = p["N"], p["C"], p["OC"]
    out, inp, w, b = torch.empty(N, OC, device=dev), rand(dev, N, C), rand(dev, OC, C), rand(dev, OC)
    return lambda: matmul_forward(out, inp, w, b)


def make_matmul_backward(p, dev):
    N, C, OC = p["N"], p["C"], p["OC"]
    dinp, dw, db, dout, inp, w = rand(dev, N, C), rand(dev, OC, C), rand(dev, OC), rand(dev, N, OC), rand(dev, N, C), rand(dev, OC, C)
    return lambda: matmul_backward(dinp, dw, db, dout, inp, w)


def make_layernorm_forward(p, dev):
    x, w, b = rand(dev, p["N"], p["C"]), rand(dev, p["C"]), rand(dev, p["C"])
    return lambda: layernorm_forward(x, w, b), "allocates its outputs (no out= variant)"


def make_layernorm_backward(p, dev):
    N, C = p["N"], p["C"]
    dx, dw, db, dy, x, w, b = rand(dev, N, C), rand(dev, C), rand(dev, C), rand(dev, N, C), rand(dev, N, C), rand(dev, C), rand(dev, C)
    mean, rstd = rand(dev, N, 1), positive(dev, N, 1)
    return (lambda: layernorm_backward(dx, dw, db, dy, x, w, b, mean, rstd),
            "native_layer_norm_backward returns new gradients; adding them to ours is 3 more passes")


def make_gelu_forward(p, dev):
    n = p["N"] * p["C"]
    out, x = torch.empty(n, device=dev), rand(dev, n)
    return lambda: gelu_forward(out, x)


def make_gelu_backward(p, dev):
    n = p["N"] * p["C"]
    dx, dy, x = rand(dev, n), rand(dev, n), rand(dev, n)
    return lambda: gelu_backward(dx, dy, x), "gelu_backward returns a new gradient; adding it is one more pass"


def make_residual_forward(p, dev):
    n = p["N"] * p["C"]
    out, a, b = torch.empty(n, device=dev), rand(dev, n), rand(dev, n)
    return lambda: residual_forward(out, a, b)


def make_residual_backward(p, dev):
    n = p["N"] * p["C"]
    da, db, dout = rand(dev, n), rand(dev, n), rand(dev, n)
    return lambda: residual_backward(da, db, dout), "two in-place adds: dout is read twice"


def make_embedding_forward(p, dev):
    B, T, C, V = p["B"], p["T"], p["C"], p["V"]
    out, tok, wte, wpe = torch.empty(B, T, C, device=dev), tokens(dev, B * T, V).view(B, T), rand(dev, V, C), rand(dev, T, C)
    return lambda: embedding_forward(out, tok, wte, wpe), "index_select then an in-place add: out is written twice"


def make_embedding_backward(p, dev):
    B, T, C, V = p["B"], p["T"], p["C"], p["V"]
    dwte, dwpe, dout, tok = rand(dev, V, C), rand(dev, T, C), rand(dev, B, T, C), tokens(dev, B * T, V).view(B, T)
    note = "index_add_ (atomic adds on CUDA: not reproducible, ours is)" if torch.device(dev).type == "cuda" else ""
    return lambda: embedding_backward(dwte, dwpe, dout, tok), note


def make_crossentropy_forward(p, dev):
    N, V = p["N"], p["V"]
    losses, lse, logits, tgt = torch.empty(N, device=dev), torch.empty(N, device=dev), rand(dev, N, V), tokens(dev, N, V)
    return lambda: crossentropy_forward(losses, lse, logits, tgt), "logsumexp and gather (F.cross_entropy keeps no lse)"


def make_crossentropy_backward(p, dev):
    N, V = p["N"], p["V"]
    dlogits, logits, lse, tgt, dloss = rand(dev, N, V), rand(dev, N, V), rand(dev, N), tokens(dev, N, V), rand(dev, N)
    return (lambda: crossentropy_backward(dlogits, logits, lse, tgt, dloss),
            "unfused: exp into a new N×V tensor, minus the one-hot, then addcmul_ into dlogits")


def make_softmax_forward(p, dev):
    R, T = p["R"], p["T"]
    y, x, masked = torch.empty(R, T, device=dev), rand(dev, R, T), causal_mask(T, dev)
    return lambda: softmax_forward(y, x, SOFTMAX_SCALE, masked), "scale and causal mask are a separate pass over a copy"


def make_softmax_backward(p, dev):
    R, T = p["R"], p["T"]
    dx, dy, y = rand(dev, R, T), rand(dev, R, T), positive(dev, R, T)
    return (lambda: softmax_backward(dx, dy, y, SOFTMAX_SCALE),
            "whole rows (ours skips the causally masked half); the result is added in a second pass")


def make_attention_forward(p, dev, masked=None, note="unfused matmul, softmax, matmul over all T×T pairs (ours: the causal half)"):
    B, T, H, d = p["B"], p["T"], p["H"], p["d"]
    out, qkv = torch.empty(B, T, H * d, device=dev), rand(dev, B, T, 3 * H * d)
    masked = causal_mask(T, dev) if masked is None else masked
    return lambda: attention_forward(out, qkv, H, masked), note


def make_attention_backward(p, dev, masked=None, note="unfused explicit backward over all T×T pairs (ours: the causal half)"):
    B, T, H, d = p["B"], p["T"], p["H"], p["d"]
    dqkv, dout, qkv = rand(dev, B, T, 3 * H * d), rand(dev, B, T, H * d), rand(dev, B, T, 3 * H * d)
    att = positive(dev, B, H, T, T).masked_fill_(causal_mask(T, dev) if masked is None else masked, 0)
    return lambda: attention_backward(dqkv, dout, qkv, att, H), note


SPARSE_NOTE = "PyTorch has no sparse attention kernel: dense attention over all T×T pairs with the strided pattern as a mask"


def make_sparse_attention_forward(p, dev):
    return make_attention_forward(p, dev, strided_mask(p["T"], p["l"], dev), SPARSE_NOTE)


def make_sparse_attention_backward(p, dev):
    return make_attention_backward(p, dev, strided_mask(p["T"], p["l"], dev), SPARSE_NOTE)


def make_adamw_update(p, dev):
    n = p["n"]
    opt, how = adamw(rand(dev, n), rand(dev, n), rand(dev, n), positive(dev, n))
    return opt.step, "torch.optim.AdamW(%s=True).step(): includes its Python overhead per call" % how


CASES = {
    "matmul.forward": make_matmul_forward,
    "matmul.backward": make_matmul_backward,
    "layernorm.forward": make_layernorm_forward,
    "layernorm.backward": make_layernorm_backward,
    "gelu.forward": make_gelu_forward,
    "gelu.backward": make_gelu_backward,
    "residual.forward": make_residual_forward,
    "residual.backward": make_residual_backward,
    "embedding.forward": make_embedding_forward,
    "embedding.backward": make_embedding_backward,
    "crossentropy.forward": make_crossentropy_forward,
    "crossentropy.backward": make_crossentropy_backward,
    "softmax.forward": make_softmax_forward,
    "softmax.backward": make_softmax_backward,
    "attention.forward": make_attention_forward,
    "attention.backward": make_attention_backward,
    "sparse_attention.forward": make_sparse_attention_forward,
    "sparse_attention.backward": make_sparse_attention_backward,
    "adamw.update": make_adamw_update,
}


# ---- the self-check: each twin, at tiny shapes in float64, against autograd of a plain formula ----

def vjp(f, xs, dy):
    """The gradients of Σ f(xs)·dy with respect to xs."""
    xs = [x.detach().requires_grad_() for x in xs]
    with torch.enable_grad():
        return torch.autograd.grad((f(*xs) * dy).sum(), xs)


def softmax_ref(s, masked):
    e = torch.exp(s - s.masked_fill(masked, -math.inf).amax(-1, keepdim=True)).masked_fill(masked, 0)
    return e / e.sum(-1, keepdim=True)


def attention_ref(qkv, H, masked):
    B, T, C3 = qkv.shape
    q, k, v = qkv.view(B, T, 3, H, C3 // 3 // H).unbind(2)
    att = softmax_ref(torch.einsum("bthi,bshi->bhts", q, k) / math.sqrt(q.shape[-1]), masked)
    return torch.einsum("bhts,bshi->bthi", att, v).reshape(B, T, -1)


def selfcheck():
    torch.manual_seed(0)
    f64 = dict(dtype=torch.float64)
    r = lambda *shape: torch.rand(*shape, **f64) * 2 - 1
    empty = lambda *shape: torch.empty(*shape, **f64)
    failures = []

    def check(name, got, want):
        err = ((got - want).abs().max() / want.abs().max()).item()
        print("%-30s max error %.1e (relative to the largest value)" % (name, err))
        if not err < 1e-10:
            failures.append(name)

    def check_backward(name, backward, args, want):
        # a backward adds its gradients to what was there: start from random ones
        grads = [r(*w.shape) for w in want]
        before = [g.clone() for g in grads]
        backward(*grads, *args)
        for i, (g, g0, w) in enumerate(zip(grads, before, want)):
            check("%s[%d]" % (name, i), g - g0, w)

    N, C, OC = 5, 8, 6
    inp, w, b, dout = r(N, C), r(OC, C), r(OC), r(N, OC)
    out = empty(N, OC)
    matmul_forward(out, inp, w, b)
    check("matmul.forward", out, torch.einsum("nc,oc->no", inp, w) + b)
    check_backward("matmul.backward", matmul_backward, [dout, inp, w], vjp(F.linear, [inp, w, b], dout))

    x, w, b, dy = r(N, C), r(C), r(C), r(N, C)
    ln = lambda x, w, b: (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + LN_EPS) * w + b
    y, mean, rstd = layernorm_forward(x, w, b)
    check("layernorm.forward", y, ln(x, w, b))
    check_backward("layernorm.backward", layernorm_backward, [dy, x, w, b, mean, rstd], vjp(ln, [x, w, b], dy))

    x, dy = r(40) * 4, r(40)
    gelu = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    y = empty(40)
    gelu_forward(y, x)
    check("gelu.forward", y, gelu(x))
    check_backward("gelu.backward", gelu_backward, [dy, x], vjp(gelu, [x], dy))

    a, b = r(40), r(40)
    residual_forward(y, a, b)
    check("residual.forward", y, a + b)
    check_backward("residual.backward", residual_backward, [dy], vjp(lambda a, b: a + b, [a, b], dy))

    B, T, V = 2, 4, 5
    tok, wte, wpe, dout = torch.randint(V, (B, T)), r(V, C), r(T, C), r(B, T, C)
    emb = lambda wte, wpe: F.embedding(tok, wte) + wpe
    out = empty(B, T, C)
    embedding_forward(out, tok, wte, wpe)
    check("embedding.forward", out, emb(wte, wpe))
    check_backward("embedding.backward", embedding_backward, [dout, tok], vjp(emb, [wte, wpe], dout))

    logits, tgt, dloss = r(N, V) * 3, torch.randint(V, (N,)), r(N)
    ce = lambda x: F.cross_entropy(x, tgt, reduction="none")
    losses, lse = empty(N), empty(N)
    crossentropy_forward(losses, lse, logits, tgt)
    check("crossentropy.forward", losses, ce(logits))
    check_backward("crossentropy.backward", crossentropy_backward, [logits, lse, tgt, dloss], vjp(ce, [logits], dloss))

    T, scale = 6, 0.3
    x, dy, masked = r(3 * T, T) * 4, r(3 * T, T), causal_mask(T, "cpu")
    sm = lambda x: softmax_ref(scale * x.view(-1, T, T), masked).view(-1, T)
    y = empty(3 * T, T)
    softmax_forward(y, x, scale, masked)
    check("softmax.forward", y, sm(x))
    check_backward("softmax.backward", softmax_backward, [dy, y, scale], vjp(sm, [x], dy))

    H, d = 2, 3
    for name, T, masked in (("attention", 5, causal_mask(5, "cpu")), ("sparse_attention", 10, strided_mask(10, 3, "cpu"))):
        qkv, dout, out = r(B, T, 3 * H * d) * 2, r(B, T, H * d), empty(B, T, H * d)
        att = attention_forward(out, qkv, H, masked)
        check(name + ".forward", out, attention_ref(qkv, H, masked))
        check_backward(name + ".backward", attention_backward, [dout, qkv, att, H],
                       vjp(lambda qkv: attention_ref(qkv, H, masked), [qkv], dout))
    allowed = ~strided_mask(10, 3, "cpu")
    want = torch.tensor([[t2 <= t and (t - t2 < 3 or (t - t2) % 3 == 0) for t2 in range(10)] for t in range(10)])
    print("%-30s %s" % ("strided_mask(10, 3)", "as SparseAttention.allows" if torch.equal(allowed, want) else "WRONG"))
    if not torch.equal(allowed, want):
        failures.append("strided_mask")

    # AdamW: AdamWReference's formula, from the same moments at the same step
    n = 50
    p, grads, m, v = r(n), r(n), r(n), r(n).abs()
    opt, how = adamw(p, grads, m, v)
    p0 = p.clone()
    opt.step()
    b1, b2 = ADAMW["betas"]
    m1, v1 = b1 * m + (1 - b1) * grads, b2 * v + (1 - b2) * grads ** 2
    c1, c2 = 1 - b1 ** ADAMW_STEP, 1 - b2 ** ADAMW_STEP
    want = p0 * (1 - ADAMW["lr"] * ADAMW["weight_decay"]) - ADAMW["lr"] / c1 * m1 / (torch.sqrt(v1) / math.sqrt(c2) + ADAMW["eps"])
    check("adamw.update (%s)" % how, p, want)
    check("adamw.update m", opt.state[p]["exp_avg"], m1)
    check("adamw.update v", opt.state[p]["exp_avg_sq"], v1)

    print("%d twins: %s" % (len(CASES), "all agree" if not failures else "FAILED: " + ", ".join(failures)))
    return not failures


if __name__ == "__main__":
    if sys.argv[1:] != ["--selfcheck"]:
        sys.exit(__doc__)
    sys.exit(0 if selfcheck() else 1)
