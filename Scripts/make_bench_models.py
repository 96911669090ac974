#!/usr/bin/env python3
"""Random-initialised benchmark models (not committed: they are gigabytes).

The reference shape is TinyLlama-1.1B: hidden 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632, vocab 32000.
Writes <out>/tinyllama-{f32,f16,bf16}/ with config.json, model.safetensors and a copy of a tokenizer (only the token
count matters for benchmarks; `origami bench` feeds random ids and decodes nothing).

    python3 Scripts/make_bench_models.py --out scratch/bench                       # TinyLlama shape, 3 dtypes
    python3 Scripts/make_bench_models.py --out scratch/bench --shape arch --dtypes f16   # ~100-300M per architecture
"""
import argparse
import shutil
from pathlib import Path

import torch
from transformers import (AutoModelForCausalLM, BloomConfig, FalconConfig, GPT2Config, LlamaConfig,
                          LlamaForCausalLM, OPTConfig)

SHAPES = {
    "tinyllama": dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                      intermediate_size=5632, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5),
}


# One model per architecture family, 100-300M parameters, for the per-architecture bench table.
ARCH = {
    "llama-200m": (LlamaConfig, dict(hidden_size=1024, num_hidden_layers=16, num_attention_heads=16, num_key_value_heads=4,
                                     intermediate_size=2816, vocab_size=32000, max_position_embeddings=2048), "llama"),
    "falcon7b-layout-250m": (FalconConfig, dict(hidden_size=1024, num_hidden_layers=16, num_attention_heads=16,
                                                multi_query=True, parallel_attn=True, vocab_size=65024), "falcon-7b"),
    "falcon40b-layout-250m": (FalconConfig, dict(hidden_size=1024, num_hidden_layers=16, num_attention_heads=16,
                                                 num_kv_heads=4, new_decoder_architecture=True, vocab_size=65024), "falcon-40b"),
    "bloom-250m": (BloomConfig, dict(hidden_size=1024, n_layer=16, n_head=16, vocab_size=50000), "bloom"),
    "opt-250m": (OPTConfig, dict(hidden_size=1024, num_hidden_layers=16, num_attention_heads=16, ffn_dim=4096,
                                 vocab_size=50272, max_position_embeddings=2048), "opt"),
    "gpt2-250m": (GPT2Config, dict(n_embd=1024, n_layer=16, n_head=16, vocab_size=50257, n_positions=2048), "gpt2"),
}


def make_arch(out_root, dtypes):
    names = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    for name, (cls, kwargs, tokenizer_from) in ARCH.items():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(cls(**kwargs))
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0.0, 0.02) if p.dim() > 1 else p.fill_(1.0)
        for d in dtypes:
            out = Path(out_root) / f"{name}-{d}"
            out.mkdir(parents=True, exist_ok=True)
            model.to(names[d]).save_pretrained(out)
            for f in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(Path("Tests/Fixtures/models") / tokenizer_from / f, out / f)
            print("wrote", out, sum(p.numel() for p in model.parameters()), "parameters")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="scratch/bench")
    ap.add_argument("--shape", default="tinyllama", choices=sorted(SHAPES) + ["arch"])
    ap.add_argument("--dtypes", default="f16,bf16,f32")
    ap.add_argument("--tokenizer-from", default="Models/default")
    args = ap.parse_args()
    if args.shape == "arch":
        return make_arch(args.out, args.dtypes.split(","))
    torch.manual_seed(0)
    config = LlamaConfig(**SHAPES[args.shape], tie_word_embeddings=False)
    # Normal(0, 0.02) weights, as transformers' initializer_range; built directly in bf16-safe float32.
    with torch.no_grad():
        model = LlamaForCausalLM(config)
        for p in model.parameters():
            p.normal_(0.0, 0.02) if p.dim() > 1 else p.fill_(1.0)
    names = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    for d in args.dtypes.split(","):
        out = Path(args.out) / f"{args.shape}-{d}"
        out.mkdir(parents=True, exist_ok=True)
        model.to(names[d]).save_pretrained(out)
        tok = Path(args.tokenizer_from)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            if (tok / f).exists():
                shutil.copy(tok / f, out / f)
        print("wrote", out)


if __name__ == "__main__":
    main()
