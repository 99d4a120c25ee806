#!/usr/bin/env python3
"""Reference values for dev.tgpt.rlhf.Advantages, from Hugging Face TRL's PPO logic re-implemented in PyTorch.

Run from the repo root with Debian's python3-torch (1.13, CPU):
    /usr/bin/python3 rlhf/src/test/resources/make_fixtures.py
It writes advantages.json beside this script. The functions below follow TRL's PPOTrainer (compute_rewards with
kl_penalty="kl", compute_advantages without reward whitening) and trl.core (masked_mean, masked_var, masked_whiten) as
TRL writes them: whole padded [B, T] tensors, the mask multiplied in, GAE by a reversed loop over every column. The Java
code instead walks each sequence's masked span; the two agree on masked positions, which is what this checks.
Layout: logprobs[b, t] is the log-probability of token t + 1 (TRL's shifted logprobs); mask[b, t] = 1 where that token
is a response token. Inputs are float32 values (kept exactly in the JSON); the math runs in float64.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


# --- trl.core ---
def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def masked_var(values, mask, unbiased=True):
    mean = masked_mean(values, mask)
    centered_values = values - mean
    variance = masked_mean(centered_values ** 2, mask)
    if unbiased:
        mask_sum = mask.sum()
        bessel_correction = mask_sum / (mask_sum - 1)
        variance = variance * bessel_correction
    return variance


def masked_whiten(values, mask, shift_mean=True):
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened += mean
    return whitened


# --- PPOTrainer ---
def compute_rewards(scores, logprobs, ref_logprobs, masks, kl_coef):
    rewards = []
    for score, logprob, ref_logprob, mask in zip(scores, logprobs, ref_logprobs, masks):
        kl = logprob - ref_logprob  # kl_penalty == "kl"
        non_score_reward = -kl_coef * kl
        reward = non_score_reward.clone()
        last_non_masked_index = mask.nonzero()[-1]
        reward[last_non_masked_index] += score
        rewards.append(reward)
    return torch.stack(rewards)


def compute_advantages(values, rewards, mask, gamma, lam):
    lastgaelam = 0
    advantages_reversed = []
    gen_len = rewards.shape[-1]
    values = values * mask
    rewards = rewards * mask
    for t in reversed(range(gen_len)):
        nextvalues = values[:, t + 1] if t < gen_len - 1 else 0.0
        delta = rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1]).transpose(0, 1)
    returns = advantages + values
    return advantages, returns


def f32(x):
    """A float32 value as a Python float, so that Java's (float) of it is the same number."""
    return float(torch.tensor(x, dtype=torch.float32))


def case(name, seed, B, T, spans, beta, gamma, lam):
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(B, T, dtype=torch.float64)
    for b, (first, last) in enumerate(spans):
        mask[b, first:last + 1] = 1
    logp = -3 * torch.rand(B, T, generator=g)
    ref_logp = logp + 0.5 * torch.randn(B, T, generator=g)
    values = torch.randn(B, T, generator=g)
    scores = 2 * torch.randn(B, generator=g)
    beta, gamma, lam = f32(beta), f32(gamma), f32(lam)
    L, R, V, S = logp.double(), ref_logp.double(), values.double(), scores.double()

    rewards = compute_rewards(S, L, R, mask, beta)
    advantages, returns = compute_advantages(V, rewards, mask, gamma, lam)
    whitened = masked_whiten(advantages, mask)
    vmasked = V * mask
    explained = 1 - masked_var(returns - vmasked, mask) / masked_var(returns, mask)

    flat = lambda t: [float(x) for x in t.reshape(-1)]
    return {
        "name": name, "B": B, "T": T, "beta": beta, "gamma": gamma, "lambda": lam,
        "logp": flat(logp), "refLogp": flat(ref_logp), "values": flat(values), "scores": flat(scores), "mask": flat(mask),
        # outside the mask TRL leaves numbers that nothing reads; tgpt writes 0 there
        "rewards": flat(rewards * mask), "advantages": flat(advantages * mask), "returns": flat(returns * mask),
        "whitenedAdvantages": flat(whitened * mask), "meanAdvantage": float(masked_mean(advantages, mask)),
        "explainedVariance": float(explained),
    }


def main():
    # Three sequences of different prompt and response lengths; masked spans [first, last] per sequence. In the
    # first case the second sequence's response runs to the last column, the third's is two tokens after a long prompt.
    cases = [
        case("trl-defaults", 1, 3, 10, [(2, 6), (1, 9), (6, 7)], beta=0.2, gamma=1.0, lam=0.95),
        case("discounted", 2, 2, 8, [(0, 3), (4, 6)], beta=0.05, gamma=0.9, lam=0.8),
    ]
    with open(os.path.join(HERE, "advantages.json"), "w") as f:
        json.dump({"source": "make_fixtures.py: TRL's PPO reward, GAE and whitening in PyTorch " + torch.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
