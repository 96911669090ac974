#!/usr/bin/env python3
"""Parameter counts of the published configs in Tests/Fixtures/configs, as transformers builds them.

CI has no Python, so the output is committed: Tests/Fixtures/configs/parameter_counts.json. The memory planner's
tests (Tests/OrigamiRuntimeTests/MemoryPlannerTests.swift) compare Origami's counts, computed from config.json
alone, against these numbers exactly.

    python Scripts/count_parameters.py

Every model is built on the meta device (`with torch.device("meta")`), so no weights are allocated and a 180B model
takes a second. For each config it records:
  - total: sum of numel over model.parameters() (shared tensors, e.g. a tied LM head, counted once);
  - embeddings / blocks / head: the same split the planner uses (token and position embeddings, the embedding
    norm and OPT's project_in; every decoder layer; the final norm, OPT's project_out and an untied lm_head);
  - per_block: parameters of layer 0;
  - lora: trainable parameters peft adds for rank 64 on every linear layer but the head ("all-linear", the QLoRA
    paper's setting) and for rank 16 on peft's default target modules for the architecture;
and, for a few weight shapes, the bytes bitsandbytes keeps for an NF4 weight (with and without double
quantization) and an LLM.int8() weight, which fix the planner's int8/nf4 conventions.

The pre-transformers Falcon RW configs (model_type RefinedWeb / RefinedWebModel) are mapped to FalconConfig by hand,
the way the RW code read them; gpt2.json is GPT-2 small's published config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM, FalconConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "Tests" / "Fixtures" / "configs"
OUT = CONFIGS / "parameter_counts.json"

NAMES = ["bloom-176b", "falcon-180b", "falcon-40b-rw", "falcon-7b-rw", "gpt2", "llama-2-13b", "llama-2-70b",
         "llama-2-7b", "llama-3.1-8b", "mistral-7b", "opt-175b", "qwen2-7b"]


def load_config(path: Path):
    raw = json.loads(path.read_text())
    if raw.get("model_type") in ("RefinedWeb", "RefinedWebModel"):
        new_arch = raw["model_type"] == "RefinedWeb"
        return FalconConfig(
            vocab_size=raw["vocab_size"], hidden_size=raw["hidden_size"], num_hidden_layers=raw["n_layer"],
            num_attention_heads=raw["n_head"], num_kv_heads=raw.get("n_head_kv", raw["n_head"]),
            new_decoder_architecture=new_arch, multi_query=raw.get("multi_query", True),
            parallel_attn=raw.get("parallel_attn", True), bias=raw.get("bias", False), alibi=raw.get("alibi", False))
    return AutoConfig.from_pretrained(str(path))


def part(name: str) -> str:
    """The planner's split: embeddings, blocks (decoder layers), head."""
    if ".layers." in name or ".h." in name:
        return "blocks"
    if any(k in name for k in ("embed_tokens", "embed_positions", "word_embeddings", "wte", "wpe", "project_in")):
        return "embeddings"
    return "head"


def count(config) -> dict:
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    split = {"embeddings": 0, "blocks": 0, "head": 0}
    per_block = 0
    for name, p in model.named_parameters():  # shared tensors are listed once
        split[part(name)] += p.numel()
        if ".layers.0." in name or ".h.0." in name:
            per_block += p.numel()
    total = sum(p.numel() for p in model.parameters())
    assert total == sum(split.values())
    lora = {}
    for key, cfg in (("r64_all_linear", LoraConfig(r=64, target_modules="all-linear")), ("r16_default", LoraConfig(r=16))):
        with torch.device("meta"):
            fresh = AutoModelForCausalLM.from_config(config)
            peft_model = get_peft_model(fresh, cfg)
        lora[key] = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        lora[key + "_targets"] = sorted(peft_model.peft_config["default"].target_modules)
    return {"total": total, **split, "per_block": per_block, "tied": bool(config.tie_word_embeddings), "lora": lora}


def bnb_sizes() -> list[dict]:
    import bitsandbytes.functional as F

    out = []
    for rows, cols in ((1000, 640), (4096, 11008), (33, 70)):
        w = torch.randn(rows, cols, dtype=torch.float16)
        entry = {"rows": rows, "cols": cols}
        for dq in (False, True):
            q, s = F.quantize_4bit(w, blocksize=64, quant_type="nf4", compress_statistics=dq)
            size = q.numel() * q.element_size() + s.absmax.numel() * s.absmax.element_size() + s.code.numel() * 4
            if dq:
                size += s.state2.absmax.numel() * 4 + s.state2.code.numel() * 4 + s.offset.numel() * 4
            entry["nf4_dq" if dq else "nf4"] = size
        q8, scales, _ = F.int8_vectorwise_quant(w)
        entry["int8"] = q8.numel() * q8.element_size() + scales.numel() * scales.element_size()
        out.append(entry)
    return out


def main():
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
    for name in NAMES:
        result["models"][name] = count(load_config(CONFIGS / f"{name}.json"))
        print(name, result["models"][name]["total"])
    result["bitsandbytes"] = bnb_sizes()
    OUT.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
