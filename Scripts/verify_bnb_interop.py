#!/usr/bin/env python3
"""Proves that transformers + bitsandbytes load what `origami quantize --format bnb` writes.

For NF4 with and without double quantization (and FP4), it quantizes Tests/Fixtures/quant/llama64 with the
origami binary, then:
  1. loads the output with transformers (AutoModelForCausalLM.from_pretrained reads its quantization_config),
  2. checks every 4-bit layer's packed weight and quant state equal those transformers itself saved
     (Tests/Fixtures/quant/llama64-bnb-nf4*, made by Scripts/make_quant_goldens.py), for NF4,
  3. compares the logits transformers computes from Origami's checkpoint with the golden logits (float32 path),
  4. runs transformers' default CPU forward (bfloat16 kernels on AVX512-BF16 machines) to show it works as shipped.

    swift build -c release --product origami
    python Scripts/verify_bnb_interop.py [--origami .build/release/origami]

Exits non-zero on any mismatch. Not needed by CI: the Swift tests check that the files are byte-identical to
transformers' own output, which implies all of the above; this script shows it with transformers in the loop.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import bitsandbytes as bnb  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_quant_goldens import exact_float_forward  # noqa: E402

torch.set_num_threads(1)
transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent.parent
QUANT = ROOT / "Tests" / "Fixtures" / "quant"


def linear4bit_state(model) -> dict[str, dict]:
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, bnb.nn.Linear4bit):
            qs = m.weight.quant_state
            out[name] = {"weight": m.weight.data.clone(), "absmax": qs.absmax.clone(), "blocksize": qs.blocksize,
                         "quant_type": qs.quant_type, "shape": tuple(qs.shape),
                         "offset": None if qs.offset is None else float(qs.offset),
                         "nested_absmax": None if qs.state2 is None else qs.state2.absmax.clone()}
    return out


def load(path: Path):
    return AutoModelForCausalLM.from_pretrained(str(path), device_map="cpu", dtype=torch.float32,
                                                attn_implementation="eager").eval()


def check(origami: str, method: str, double_quant: bool, work: Path) -> bool:
    out = work / f"{method}{'-dq' if double_quant else ''}"
    cmd = [origami, "quantize", "--model", str(QUANT / "llama64"), "--method", method, "--format", "bnb", "--output", str(out)]
    if double_quant:
        cmd.append("--double-quant")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ok = True
    ours = load(out)
    label = f"{method}{' + double quant' if double_quant else ''}"
    if method == "nf4":
        golden_dir = QUANT / ("llama64-bnb-nf4-dq" if double_quant else "llama64-bnb-nf4")
        theirs = load(golden_dir)
        a, b = linear4bit_state(ours), linear4bit_state(theirs)
        same = a.keys() == b.keys() and all(
            torch.equal(a[k]["weight"], b[k]["weight"]) and torch.equal(a[k]["absmax"], b[k]["absmax"])
            and a[k]["offset"] == b[k]["offset"] and a[k]["shape"] == b[k]["shape"]
            and (a[k]["nested_absmax"] is None or torch.equal(a[k]["nested_absmax"], b[k]["nested_absmax"]))
            for k in a)
        print(f"{label}: {len(a)} Linear4bit layers as transformers loaded them: {'identical' if same else 'DIFFERENT'}")
        ok &= same
        golden = json.loads((golden_dir / "golden.json").read_text())
        exact_float_forward(ours)
        with torch.no_grad():
            logits = ours(torch.tensor([golden["prompt_ids"]])).logits[0]
        err = max((logits[p] - torch.tensor(row)).abs().max().item() / (max(row) - min(row))
                  for p, row in zip(golden["positions"], golden["logits"]))
        print(f"{label}: transformers' float32 logits from Origami's checkpoint vs golden: {err:.2e} of the range")
        ok &= err < 1e-5
    shipped = load(out)
    with torch.no_grad():
        y = shipped(torch.tensor([[1, 5, 9, 300]])).logits
    print(f"{label}: transformers' default forward runs: logits {tuple(y.shape)}, finite: {bool(torch.isfinite(y).all())}")
    ok &= bool(torch.isfinite(y).all())
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--origami", default=str(ROOT / ".build" / "release" / "origami"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = all([check(args.origami, "nf4", False, Path(tmp)), check(args.origami, "nf4", True, Path(tmp)),
                  check(args.origami, "fp4", True, Path(tmp))])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
