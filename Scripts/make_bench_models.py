#!/usr/bin/env python3
"""Random-initialised benchmark models (not committed: they are gigabytes).

The reference shape is TinyLlama-1.1B: hidden 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632, vocab 32000.
Writes <out>/tinyllama-{f32,f16,bf16}/ with config.json, model.safetensors and a copy of the default model's
tokenizer (only the token count matters for benchmarks; ids beyond it are never decoded by `origami bench`).

    python3 Scripts/make_bench_models.py --out scratch/bench
"""
import argparse
import shutil
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    "tinyllama": dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                      intermediate_size=5632, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="scratch/bench")
    ap.add_argument("--shape", default="tinyllama", choices=sorted(SHAPES))
    ap.add_argument("--dtypes", default="f16,bf16,f32")
    ap.add_argument("--tokenizer-from", default="Models/default")
    args = ap.parse_args()
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
