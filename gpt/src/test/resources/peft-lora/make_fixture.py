#!/usr/bin/env python3
"""PEFT's own LoRA adapter for the GPT-2 parity model, and what it computes: the reference for tgpt's --adapter.

Needs PEFT and transformers (not in Debian; PyPI: peft 0.21.0, transformers 5.18.0, torch 2.13 CPU were used), e.g.
    python3 -m venv --system-site-packages /tmp/peftenv && /tmp/peftenv/bin/pip install peft==0.21.0
    /tmp/peftenv/bin/python gpt/src/test/resources/peft-lora/make_fixture.py
It loads ../gpt2-parity/model with transformers' GPT2LMHeadModel, wraps it with peft.get_peft_model and a LoraConfig
naming GPT-2's modules as PEFT's users do (target_modules c_attn, c_proj, c_fc: c_proj is both projections; Conv1D
layers, so fan_in_fan_out), gives lora_B random values (PEFT starts it at 0, which would test nothing), and saves
the adapter with save_pretrained: adapter/adapter_config.json and adapter/adapter_model.safetensors, exactly as
PEFT writes them. expected.safetensors: the adapted model's logits for ../gpt2-parity/batch.safetensors.

    make_fixture.py --load DIR   loads an adapter tgpt wrote (DIR: adapter_config.json + adapter_model.safetensors;
                                 PeftFormatTest writes this adapter as tgpt saves it to gpt/target/peft-lora/adapter)
                                 with PeftModel.from_pretrained onto the same base, and prints how far its logits are
                                 from the fixture's.
"""
import os
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
PARITY = os.path.join(HERE, "..", "gpt2-parity")


def base():
    return GPT2LMHeadModel.from_pretrained(os.path.join(PARITY, "model")).eval()


def ids():
    return load_file(os.path.join(PARITY, "batch.safetensors"))["input_ids"].long()


def main():
    if "--load" in sys.argv:
        model = PeftModel.from_pretrained(base(), sys.argv[sys.argv.index("--load") + 1]).eval()
        want = load_file(os.path.join(HERE, "expected.safetensors"))["logits"]
        with torch.no_grad():
            got = model(input_ids=ids()).logits
        print("PEFT with tgpt's adapter vs the fixture: logits max abs diff %.3g" % (got - want).abs().max().item())
        return
    torch.manual_seed(7)
    config = LoraConfig(r=4, lora_alpha=12, target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True, lora_dropout=0.0,
                        task_type="CAUSAL_LM")
    model = get_peft_model(base(), config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.2)
        logits = model(input_ids=ids()).logits
    model.peft_config["default"].base_model_name_or_path = "../gpt2-parity/model"  # not this machine's path
    model.save_pretrained(os.path.join(HERE, "adapter"))
    os.remove(os.path.join(HERE, "adapter", "README.md"))  # PEFT's model card template
    save_file({"logits": logits.contiguous()}, os.path.join(HERE, "expected.safetensors"))
    with torch.no_grad():
        plain = base()(input_ids=ids()).logits
    print("adapter written; the adapter moves the logits by up to %.3g" % (logits - plain).abs().max().item())


if __name__ == "__main__":
    main()
