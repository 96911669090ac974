#!/usr/bin/env python3
"""Generate the quantization goldens that OrigamiQuant's Swift tests compare against, with bitsandbytes on CPU.

CI has no Python, so everything this script writes is committed. Run it from anywhere:

    python Scripts/make_quant_goldens.py

It overwrites, deterministically, Tests/Fixtures/quant/:
  codebooks.safetensors   bitsandbytes' code books, taken from its own functions: NF4 and FP4 (get_4bit_type), the
                          midpoints and FP4 sort order its CPU quantize_4bit buckets with, and the 8-bit dynamic map
                          (create_dynamic_map) that double quantization uses
  weights.safetensors     the input weights (F32, and one F16), with sizes that are not multiples of the blocks
  blockwise.safetensors   per case: packed NF4/FP4 codes and absmax (or U8 absmax + nested absmax + offset) from
  blockwise.json          bnb.functional.quantize_4bit, and for a few cases the dequantized weight
  int8.safetensors        int8_vectorwise_quant (codes + SCB) of the fp16-rounded weights, as Linear8bitLt stores
                          them; and the int8-zp codes from the formula documented below (no bitsandbytes twin)
  linear8bitlt.safetensors  bnb.nn.Linear8bitLt(has_fp16_weights=False) forward outputs at threshold 6.0 (LLM.int8()
                          with outlier columns) and 0.0 (plain int8), with its weight state
  llama64/                a tiny bfloat16 Llama whose layer widths are multiples of 64 (see make_llama64 for why)
  llama64-bnb-nf4/, llama64-bnb-nf4-dq/
                          llama64 loaded by transformers with BitsAndBytesConfig(load_in_4bit, nf4, double quant
                          off/on, compute float32) and saved with save_pretrained (before any forward pass:
                          bitsandbytes' CPU forward repacks the weights in place), plus golden.json: logits of that
                          checkpoint reloaded in a fresh model, in float32
  llama64-bnb-int8/       the same with BitsAndBytesConfig(load_in_8bit=True): LLM.int8(), threshold 6.0

Versions: Scripts/requirements.txt. Every random draw comes from a torch.Generator seeded per fixture and torch runs
on one thread: bitsandbytes' double quantization subtracts torch's float32 mean of the absmax values, and torch splits
sums of more than 32768 elements across threads, so the thread count is part of the result.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import logging  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import bitsandbytes as bnb  # noqa: E402
import bitsandbytes.functional as F  # noqa: E402
from bitsandbytes.backends.default.ops import _get_4bit_quantize_bounds  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, BitsAndBytesConfig  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
OUT = FIXTURES / "quant"
LLAMA = FIXTURES / "models" / "llama"

SIG_DIGITS = 7


def rounded(x: float) -> float:
    return float(f"{x:.{SIG_DIGITS}g}")


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=False) + "\n")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------------------------
# Code books
# --------------------------------------------------------------------------------------------------------------

def make_codebooks() -> None:
    nf4 = F.get_4bit_type("nf4", device="cpu")
    fp4 = F.get_4bit_type("fp4", device="cpu")
    nf4_mid, nf4_order = _get_4bit_quantize_bounds("nf4", torch.device("cpu"))
    fp4_mid, fp4_order = _get_4bit_quantize_bounds("fp4", torch.device("cpu"))
    dynamic = F.create_dynamic_map()
    tensors = {
        "nf4": nf4.float().contiguous(),
        "fp4": fp4.float().contiguous(),
        "nf4_midpoints": nf4_mid.float().contiguous(),
        "nf4_order": nf4_order.to(torch.int32).contiguous(),
        "fp4_midpoints": fp4_mid.float().contiguous(),
        "fp4_order": fp4_order.to(torch.int32).contiguous(),
        "dynamic": dynamic.float().contiguous(),
    }
    save_file(tensors, str(OUT / "codebooks.safetensors"), metadata={"format": "pt"})


# --------------------------------------------------------------------------------------------------------------
# Input weights
# --------------------------------------------------------------------------------------------------------------

def make_weights() -> dict[str, torch.Tensor]:
    """Weights whose element counts are not multiples of the block sizes, with outliers and an all-zero stretch.

    A [33, 67]: 2211 elements, odd (the last packed byte holds one code and a zero pad); rows 30..31 are zero, so
       some blocks have absmax 0.
    B [64, 130]: 8320 elements: 260 blocks of 32, so double quantization has two 256-blocks, the last partial.
    C [5, 7]: 35 elements, one partial block.
    D [48, 64] stored as float16 (the quantizers widen it to float32 exactly).
    """
    g = gen(501)
    a = torch.randn(33, 67, generator=g) * 0.05
    a[3, 5] = 0.9
    a[17, 40] = -1.3
    a[30:32, :] = 0.0
    b = torch.randn(64, 130, generator=g) * 0.02
    b[:, 7] *= 12.0
    b[50, 100] = 0.75
    c = torch.randn(5, 7, generator=g) * 0.1
    d = (torch.randn(48, 64, generator=g) * 0.03).to(torch.float16)
    w = {"A": a.contiguous(), "B": b.contiguous(), "C": c.contiguous(), "D": d.contiguous()}
    save_file(w, str(OUT / "weights.safetensors"), metadata={"format": "pt"})
    return w


# --------------------------------------------------------------------------------------------------------------
# NF4 / FP4 blockwise
# --------------------------------------------------------------------------------------------------------------

CASES_4BIT = (
    [("A", qt, bs, dq) for qt in ("nf4", "fp4") for bs in (32, 64, 128, 256, 512, 1024, 2048, 4096) for dq in (False, True)]
    + [("B", "nf4", bs, dq) for bs in (32, 64, 4096) for dq in (False, True)]
    + [("B", "fp4", 32, dq) for dq in (False, True)]
    + [("C", qt, bs, dq) for qt in ("nf4", "fp4") for bs in (32, 64) for dq in (False, True)]
    + [("D", "nf4", 64, True), ("D", "fp4", 128, False)]
)
# Cases that also store bitsandbytes' dequantized weight (F32, four bytes an element: kept few).
DEQUANT_CASES = {("A", "nf4", 64, True), ("A", "fp4", 128, False), ("C", "nf4", 32, True), ("D", "nf4", 64, True),
                 ("A", "nf4", 2048, False)}


def case_name(w: str, qt: str, bs: int, dq: bool) -> str:
    return f"{w}.{qt}.b{bs}" + (".dq" if dq else "")


def make_blockwise(weights: dict[str, torch.Tensor]) -> None:
    tensors: dict[str, torch.Tensor] = {}
    manifest = []
    for w, qt, bs, dq in CASES_4BIT:
        x = weights[w]
        packed, state = F.quantize_4bit(x, blocksize=bs, quant_type=qt, compress_statistics=dq)
        name = case_name(w, qt, bs, dq)
        assert packed.dtype == torch.uint8 and packed.shape == ((x.numel() + 1) // 2, 1)
        tensors[name + ".codes"] = packed.reshape(-1).contiguous()
        tensors[name + ".absmax"] = state.absmax.contiguous()
        if dq:
            assert state.state2.blocksize == 256
            tensors[name + ".nested_absmax"] = state.state2.absmax.contiguous()
            tensors[name + ".offset"] = state.offset.reshape(1).float().contiguous()
        entry = {"name": name, "weight": w, "quant_type": qt, "blocksize": bs, "double_quant": dq,
                 "shape": list(x.shape), "dequant": (w, qt, bs, dq) in DEQUANT_CASES}
        if dq:
            # What transformers writes into quant_state.bitsandbytes__<type>: the offset as Python prints it.
            entry["nested_offset_repr"] = repr(state.offset.item())
        if entry["dequant"]:
            # In float32 whatever the weight's dtype: bitsandbytes would otherwise round a float16 weight's values to
            # float16, and Origami computes in float32.
            state.dtype = torch.float32
            tensors[name + ".dequant"] = F.dequantize_4bit(packed, state).contiguous()
        manifest.append(entry)
    save_file(tensors, str(OUT / "blockwise.safetensors"), metadata={"format": "pt"})
    write_json(OUT / "blockwise.json", {"bitsandbytes": bnb.__version__, "torch_threads": 1, "cases": manifest})


# --------------------------------------------------------------------------------------------------------------
# int8 and int8-zp
# --------------------------------------------------------------------------------------------------------------

def int8_zero_point(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Origami's int8-zp, per output row (no bitsandbytes twin; this is the formula the Swift side implements):

        lo = min(0, min(row)), hi = max(0, max(row))        (the range always holds 0, so 0 is exact)
        scale = (hi - lo) / 255                              (float32; a row of zeros gets scale 0 and codes 0)
        zero = clamp(round(-lo / scale), 0, 255)             (round half to even)
        q = clamp(round(w / scale) + zero, 0, 255)           (uint8)
        w ≈ (q - zero) · scale
    """
    w = w.float()
    lo = torch.minimum(w.min(dim=1).values, torch.zeros(()))
    hi = torch.maximum(w.max(dim=1).values, torch.zeros(()))
    scale = (hi - lo) / 255.0
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero = torch.clamp(torch.round(-lo / safe), 0, 255)
    q = torch.clamp(torch.round(w / safe.unsqueeze(1)) + zero.unsqueeze(1), 0, 255)
    q = torch.where(scale.unsqueeze(1) > 0, q, torch.zeros_like(q))
    zero = torch.where(scale > 0, zero, torch.zeros_like(zero))
    return q.to(torch.uint8), scale.contiguous(), zero.to(torch.uint8)


def make_int8(weights: dict[str, torch.Tensor]) -> None:
    tensors = {}
    for name, w in weights.items():
        # Linear8bitLt quantizes the weight after rounding it to float16 (Int8Params._quantize).
        cb, scb, _ = F.int8_vectorwise_quant(w.to(torch.float16))
        tensors[f"{name}.int8.codes"] = cb.contiguous()
        tensors[f"{name}.int8.scb"] = scb.contiguous()
        q, s, z = int8_zero_point(w)
        tensors[f"{name}.int8zp.codes"] = q.contiguous()
        tensors[f"{name}.int8zp.scale"] = s
        tensors[f"{name}.int8zp.zero"] = z.contiguous()
    save_file(tensors, str(OUT / "int8.safetensors"), metadata={"format": "pt"})


# --------------------------------------------------------------------------------------------------------------
# Linear8bitLt (LLM.int8())
# --------------------------------------------------------------------------------------------------------------

def make_linear8bitlt() -> None:
    """Outputs of bnb.nn.Linear8bitLt in eval mode (in training mode on CPU it dequantizes instead: MatMul8bitFp).

    Inputs: x1 is one token with an outlier; x2 has nine tokens and outliers in columns 3 (scaled up), 10 (exactly
    6.0: bitsandbytes' test is |x| >= threshold) and 20 (-7); x3 has no outliers; x4 has a token whose values are
    all outliers in their columns and a token of zeros.
    """
    inf, outf = 64, 48
    g = gen(777)
    weight = torch.randn(outf, inf, generator=g) * 0.1
    weight[5, 3] = 0.8
    bias = torch.randn(outf, generator=g) * 0.1
    x1 = torch.randn(1, inf, generator=g)
    x1[0, 12] = 9.5
    x2 = torch.randn(9, inf, generator=g)
    x2[:, 3] *= 10.0
    x2[2, 10] = 6.0
    x2[4, 20] = -7.0
    x3 = torch.randn(5, inf, generator=g) * 0.5
    x4 = torch.randn(3, inf, generator=g)
    x4[1, :] = 0.0
    x4[0, 0:4] = torch.tensor([8.0, -8.0, 6.5, 12.0])
    x4[2, 0:4] = torch.tensor([0.1, 0.2, -0.3, 0.4])
    tensors = {"weight": weight, "bias": bias, "x1": x1, "x2": x2, "x3": x3, "x4": x4}
    for thr, tag in ((6.0, "t6"), (0.0, "t0")):
        layer = bnb.nn.Linear8bitLt(inf, outf, bias=True, has_fp16_weights=False, threshold=thr)
        layer.load_state_dict({"weight": weight.clone(), "bias": bias.clone()})
        layer = layer.to("cpu").eval()
        tensors[f"{tag}.CB"] = layer.weight.data.clone().contiguous()
        tensors[f"{tag}.SCB"] = layer.weight.SCB.clone().contiguous()
        for xn in ("x1", "x2", "x3", "x4"):
            with torch.no_grad():
                y = layer(tensors[xn].clone())
            tensors[f"{tag}.y_{xn}"] = y.float().contiguous()
            if thr > 0:
                idx = layer.state.idx
                tensors[f"{tag}.outliers_{xn}"] = (idx if idx is not None else torch.empty(0, dtype=torch.int64)).to(torch.int32).contiguous()
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(OUT / "linear8bitlt.safetensors"),
              metadata={"format": "pt"})


# --------------------------------------------------------------------------------------------------------------
# A transformers + bitsandbytes NF4 checkpoint
# --------------------------------------------------------------------------------------------------------------

def make_llama64() -> None:
    """A tiny Llama whose linear layers all have in_features that are multiples of 64, stored in bfloat16.

    Why not Tests/Fixtures/models/llama (hidden 32): bitsandbytes 0.50.2's CPU 4-bit dequantization kernel
    (`cdequantize_blockwise_cpu_nf4_fp32`) uses the wrong absmax when in_features is not a multiple of the block size
    (e.g. 32 or 96 with blocks of 64) — its own quantizer and its Python reference dequantization
    (`_dequantize_4bit_compute`) agree with each other and with Origami, and transformers' CPU forward does not. Real
    models' widths are multiples of 64, so this model shows what they do. bfloat16 halves the fixture, and makes
    transformers' save keep the float tensors and record the weights' dtype as it does for most checkpoints.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    out = OUT / "llama64"
    if out.exists():
        shutil.rmtree(out)
    cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=16, max_position_embeddings=128, rms_norm_eps=1e-5,
                      tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(6464)
    model = LlamaForCausalLM(cfg)
    g = gen(6465)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=g))
    model.to(torch.bfloat16).save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copy(LLAMA / f, out / f)


def exact_float_forward(model) -> None:
    """Makes the loaded bitsandbytes model compute in float32, as Origami does.

    - On a CPU with AVX512-BF16, Linear4bit's first forward repacks the weights and multiplies in bfloat16; with
      `support_avx512bf16_for_cpu` off, gemm_4bit dequantizes (code × absmax in float32) and calls F.linear.
    - transformers keeps a pre-quantized checkpoint's float tensors in its stored dtype (bfloat16 here) whatever
      `dtype` asks, and bitsandbytes dequantizes to the quant state's dtype: both are widened to float32 (exactly).
    """
    for m in model.modules():
        if isinstance(m, bnb.nn.Linear4bit):
            m.support_avx512bf16_for_cpu = False
            m.weight.quant_state.dtype = torch.float32
            m.compute_dtype = torch.float32
    for p in model.parameters():
        if p.dtype.is_floating_point:
            p.data = p.data.float()
    for b in model.buffers():
        if b.dtype.is_floating_point:
            b.data = b.data.float()


def make_bnb_llama(double_quant: bool) -> None:
    src = OUT / "llama64"
    out = OUT / ("llama64-bnb-nf4-dq" if double_quant else "llama64-bnb-nf4")
    if out.exists():
        shutil.rmtree(out)
    cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=double_quant,
                             bnb_4bit_compute_dtype=torch.float32)
    model = AutoModelForCausalLM.from_pretrained(str(src), quantization_config=cfg, device_map="cpu",
                                                 dtype=torch.bfloat16, attn_implementation="eager")
    # Save first: a forward pass on CPU may repack the weights in place.
    model.save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src / f, out / f)
    del model
    # Logits of the saved checkpoint in a fresh model, computed in float32 (the bfloat16 tensors widen exactly).
    fresh = AutoModelForCausalLM.from_pretrained(str(out), device_map="cpu", dtype=torch.float32,
                                                 attn_implementation="eager")
    exact_float_forward(fresh)
    fresh.eval()
    prompt = json.loads((LLAMA / "golden.json").read_text())["prompt_ids"]
    with torch.no_grad():
        logits = fresh(torch.tensor([prompt])).logits[0].float()
    # Independent check: the same logits from bitsandbytes' dequantized weights in a plain float32 model.
    check_dequantized(src, out, prompt, logits)
    golden = {
        "source": "Tests/Fixtures/quant/llama64",
        "quantization": {"quant_type": "nf4", "blocksize": 64, "double_quant": double_quant},
        "compute_dtype": "float32",
        "prompt_ids": prompt,
        # Positions 0, 1, 2 and the last: enough to see every layer at work, small enough to commit.
        "positions": [0, 1, 2, len(prompt) - 1],
        "logits": [[rounded(v) for v in logits[p].tolist()] for p in (0, 1, 2, len(prompt) - 1)],
    }
    write_json(out / "golden.json", golden)


def make_bnb_llama_int8() -> None:
    """llama64 loaded with BitsAndBytesConfig(load_in_8bit=True) (LLM.int8(), threshold 6.0) and saved: `weight` I8,
    `SCB` F32 and `weight_format` per layer. golden.json: its logits reloaded and computed in float32 (Linear8bitLt in
    eval mode: int8 products with the outlier columns of the whole prompt in float)."""
    src = OUT / "llama64"
    out = OUT / "llama64-bnb-int8"
    if out.exists():
        shutil.rmtree(out)
    cfg = BitsAndBytesConfig(load_in_8bit=True)
    model = AutoModelForCausalLM.from_pretrained(str(src), quantization_config=cfg, device_map="cpu", dtype=torch.bfloat16,
                                                 attn_implementation="eager")
    model.save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src / f, out / f)
    del model
    fresh = AutoModelForCausalLM.from_pretrained(str(out), device_map="cpu", dtype=torch.float32, attn_implementation="eager")
    for p in fresh.parameters():
        if p.dtype.is_floating_point:
            p.data = p.data.float()
    for b in fresh.buffers():
        if b.dtype.is_floating_point:
            b.data = b.data.float()
    fresh.eval()
    prompt = json.loads((LLAMA / "golden.json").read_text())["prompt_ids"]
    with torch.no_grad():
        logits = fresh(torch.tensor([prompt])).logits[0].float()
    write_json(out / "golden.json", {
        "source": "Tests/Fixtures/quant/llama64",
        "quantization": {"load_in_8bit": True, "llm_int8_threshold": 6.0},
        "compute_dtype": "float32",
        "prompt_ids": prompt,
        "positions": [0, 1, 2, len(prompt) - 1],
        "logits": [[rounded(v) for v in logits[p].tolist()] for p in (0, 1, 2, len(prompt) - 1)],
    })


def check_dequantized(src: Path, out: Path, prompt: list[int], logits: torch.Tensor) -> None:
    """Rebuilds the float model from bnb's dequantize_4bit of every saved weight and compares logits."""
    from transformers import LlamaForCausalLM
    from bitsandbytes.functional import QuantState

    f = safe_open(str(out / "model.safetensors"), "pt")
    keys = list(f.keys())
    quantized = [k for k in keys if k.endswith(".weight") and (k + ".absmax") in keys]
    state = {}
    for k in keys:
        if k in quantized:
            qs = {kk[len(k) + 1:]: f.get_tensor(kk) for kk in keys if kk.startswith(k + ".")}
            quant_state = QuantState.from_dict(qs, device=torch.device("cpu"))
            quant_state.dtype = torch.float32
            state[k] = F.dequantize_4bit(f.get_tensor(k), quant_state).float()
        elif not any(k.startswith(q + ".") for q in quantized):
            state[k] = f.get_tensor(k).float()
    ref = LlamaForCausalLM.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager")
    missing, unexpected = ref.load_state_dict(state, strict=False)
    assert not unexpected and all("lm_head" in m for m in missing), (missing, unexpected)
    with torch.no_grad():
        ref_logits = ref(torch.tensor([prompt])).logits[0].float()
    err = (ref_logits - logits).abs().max().item()
    assert err < 1e-4, f"bnb checkpoint logits differ from its dequantized float model by {err}"


# --------------------------------------------------------------------------------------------------------------
# torch's float32 sum and mean (double quantization's offset)
# --------------------------------------------------------------------------------------------------------------

TORCH_SUM_SIZES = list(range(1, 41)) + [63, 64, 65, 127, 128, 129, 255, 256, 257, 500, 1000, 1023, 1024, 1025, 4095, 4096,
                                        4097, 16383, 16384, 16385, 32767, 32768, 32769, 65536, 100003]


def hashed_values(n: int) -> np.ndarray:
    """x_i = uint32(i · 2654435761 mod 2^32) / 2^32 − 0.5 in float32: reproducible without shipping the inputs."""
    i = np.arange(n, dtype=np.uint64)
    u = ((i * np.uint64(2654435761)) % np.uint64(1 << 32)).astype(np.uint32)
    return u.astype(np.float32) / np.float32(4294967296.0) - np.float32(0.5)


def make_torch_sums() -> None:
    rows = []
    for n in TORCH_SUM_SIZES:
        t = torch.from_numpy(hashed_values(n))
        s = torch.sum(t).item()
        m = torch.mean(t).item()
        rows.append({"n": n, "sum_bits": int(np.float32(s).view(np.uint32)), "mean_bits": int(np.float32(m).view(np.uint32))})
    write_json(OUT / "torch_sums.json", {"torch": torch.__version__, "threads": torch.get_num_threads(),
                                         "values": "x_i = float32(uint32(i * 2654435761 mod 2^32)) / 2^32 - 0.5",
                                         "cases": rows})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    make_torch_sums()
    make_codebooks()
    weights = make_weights()
    make_blockwise(weights)
    make_int8(weights)
    make_linear8bitlt()
    make_llama64()
    make_bnb_llama(False)
    make_bnb_llama(True)
    make_bnb_llama_int8()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
