#!/usr/bin/env python3
"""A random-initialised Llama of Llama-2-7B's shape in F16 (~13.5 GB), for the layer-streaming benchmark.

Not committed (it is gigabytes): written to the git-ignored scratch/ folder.

    python3 Scripts/make_streaming_bench_model.py --out scratch/llama-7b-f16

Building the model with transformers would hold it all in memory (27 GB in f32 before the cast); instead each
tensor is drawn on its own and written shard by shard with safetensors, one shard per decoder layer plus one for the
embeddings and one for the head, with a model.safetensors.index.json, the config transformers would write, and the
tiny Llama fixture's tokenizer (benchmarks feed random ids; only the vocabulary size of config.json matters).
Weights are Normal(0, 0.02) (transformers' initializer_range), norm weights 1. Peak memory is one layer (~400 MB).
"""

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 11008,
    "max_position_embeddings": 4096,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "vocab_size": 32000,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "scratch" / "llama-7b-f16"))
    ap.add_argument("--layers", type=int, default=CONFIG["num_hidden_layers"])
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = dict(CONFIG, num_hidden_layers=args.layers)
    h, ffn, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    gen = torch.Generator().manual_seed(0)

    def normal(*shape):
        return (torch.randn(*shape, generator=gen, dtype=torch.float32) * 0.02).to(torch.float16)

    shards = [("embed", {"model.embed_tokens.weight": lambda: normal(vocab, h)})]
    for i in range(args.layers):
        p = f"model.layers.{i}."
        shards.append((f"layer{i}", {
            p + "input_layernorm.weight": lambda: torch.ones(h, dtype=torch.float16),
            p + "post_attention_layernorm.weight": lambda: torch.ones(h, dtype=torch.float16),
            p + "self_attn.q_proj.weight": lambda: normal(h, h),
            p + "self_attn.k_proj.weight": lambda: normal(h, h),
            p + "self_attn.v_proj.weight": lambda: normal(h, h),
            p + "self_attn.o_proj.weight": lambda: normal(h, h),
            p + "mlp.gate_proj.weight": lambda: normal(ffn, h),
            p + "mlp.up_proj.weight": lambda: normal(ffn, h),
            p + "mlp.down_proj.weight": lambda: normal(h, ffn),
        }))
    shards.append(("head", {"model.norm.weight": lambda: torch.ones(h, dtype=torch.float16),
                            "lm_head.weight": lambda: normal(vocab, h)}))

    weight_map = {}
    total = 0
    n = len(shards)
    for k, (_, makers) in enumerate(shards):
        name = f"model-{k + 1:05d}-of-{n:05d}.safetensors"
        tensors = {key: make() for key, make in makers.items()}
        save_file(tensors, str(out / name), metadata={"format": "pt"})
        for key, t in tensors.items():
            weight_map[key] = name
            total += t.numel() * t.element_size()
        print("wrote", name, flush=True)
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2) + "\n")
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tok = ROOT / "Tests" / "Fixtures" / "models" / "llama"
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tok / f, out / f)
    print(f"{total / 1e9:.2f} GB of weights in {out}")


if __name__ == "__main__":
    main()
