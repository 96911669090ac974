"""Goldens for the quantized kernels of OrigamiKernels, computed by bitsandbytes on CPU.

Writes Tests/Fixtures/quant_kernels/goldens.json: small int8 and 4-bit layers with their bitsandbytes encodings
(CB/SCB; packed 4-bit codes, absmax, code book) and the outputs bitsandbytes computes for given activations:

- int8: `Linear8bitLt` in inference (`MatMul8bitLt`: activations cast to float16, vector-wise int8 quantization,
  the int8 product rescaled by `int8_mm_dequant`, and with a threshold the outlier columns in float against the
  dequantized weight), for threshold 0 and 6, with several tokens and with one;
- 4-bit: `quantize_4bit` (NF4 and FP4, block 64 and 128) and the float32 product against `dequantize_4bit`,
  which is what `matmul_4bit` computes on CPU for float32 activations.

One case has blocks that straddle rows (in = 96, block 64). bitsandbytes' quantizer always blocks the flattened
weight, and so do its default and CUDA dequantizers, but the native CPU `dequantize_4bit` of 0.50.2 indexes the
absmax per row unless in % block == 0 or block % in == 0, which contradicts the codes it was given (its error
against the original weight is 3× that of the flat reading). That case therefore uses the default backend's
dequantization (`_dequantize_4bit_compute`, flat blocks), the one consistent with the quantizer.

Run: python Scripts/make_quant_kernel_goldens.py   (versions in Scripts/requirements.txt; one thread, a few seconds)
The output is the same every time.
"""
import json
import os
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
import bitsandbytes as bnb  # noqa: E402
import bitsandbytes.functional as F  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "quant_kernels", "goldens.json")


def floats(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def int8_case(name, out_f, in_f, tokens, threshold, seed):
    torch.manual_seed(seed)
    lin = torch.nn.Linear(in_f, out_f, bias=True)
    layer = bnb.nn.Linear8bitLt(in_f, out_f, bias=True, has_fp16_weights=False, threshold=threshold)
    layer.load_state_dict(lin.state_dict())
    layer = layer.to("cpu").eval()
    # The int8 weight as loaded (the forward may move CB/SCB into the layer's state).
    cb, scb = layer.weight.data.clone(), layer.weight.SCB.clone()
    assert cb.dtype == torch.int8
    x = torch.randn(tokens, in_f) * 2
    # Outliers for the threshold: a whole column, and single large values.
    x[:, 7] *= 5
    x[min(2, tokens - 1), 100] = 9.0
    x[0, in_f - 1] = -7.5
    with torch.no_grad():
        y = layer(x)
    return {
        "name": name, "rows": out_f, "cols": in_f, "tokens": tokens, "threshold": threshold,
        "cb": [int(v) for v in cb.reshape(-1).tolist()],
        "scb": floats(scb), "bias": floats(layer.bias), "x": floats(x), "y": floats(y),
    }


def four_bit_case(name, out_f, in_f, tokens, quant_type, block, seed):
    torch.manual_seed(seed)
    w = torch.randn(out_f, in_f) * 0.05
    q, state = F.quantize_4bit(w, blocksize=block, quant_type=quant_type)
    x = torch.randn(tokens, in_f)
    bias = torch.randn(out_f)
    if in_f % block == 0 or block % in_f == 0:
        wd = F.dequantize_4bit(q, state).to(torch.float32)
    else:
        from bitsandbytes.backends.default.ops import _dequantize_4bit_compute

        wd = _dequantize_4bit_compute(q.reshape(-1), state.absmax, state.code, block, w.shape, torch.float32)
    y = torch.nn.functional.linear(x, wd, bias)
    return {
        "name": name, "rows": out_f, "cols": in_f, "tokens": tokens, "block": block, "quant_type": quant_type,
        "codes": [int(v) for v in q.reshape(-1).tolist()], "absmax": floats(state.absmax),
        "codebook": floats(state.code), "bias": floats(bias), "x": floats(x), "y": floats(y),
    }


def main():
    goldens = {
        "bitsandbytes": bnb.__version__,
        "torch": torch.__version__,
        "int8": [
            int8_case("int8 threshold 0, 5 tokens", 40, 200, 5, 0.0, 1),
            int8_case("int8 threshold 6, 5 tokens", 40, 200, 5, 6.0, 2),
            int8_case("int8 threshold 6, 1 token", 33, 130, 1, 6.0, 3),
        ],
        "four_bit": [
            four_bit_case("nf4 block 64, 6 tokens", 20, 256, 6, "nf4", 64, 4),
            four_bit_case("fp4 block 128, 3 tokens", 37, 128, 3, "fp4", 128, 5),
            four_bit_case("nf4 block 64, in 96 (blocks straddle rows)", 9, 96, 2, "nf4", 64, 6),
        ],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(goldens, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
