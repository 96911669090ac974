#!/usr/bin/env bash
# Checks that the hot kernels of OrigamiKernels still compile to the vector code they were written for.
#
# A kernel that silently lost its AVX-512 (missing target flags), started calling a conversion or libm helper
# per element, or no longer uses the bf16 dot-product / AMX instructions is the commonest performance
# regression, and tests cannot see it. This builds the release objects and disassembles each hot symbol.
#
# Usage: Scripts/check_kernels_asm.sh [--no-build]      (from anywhere in the repository)
# Exit status 0 when every check passes, 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ "${1:-}" != "--no-build" ]]; then
    swift build -c release --target OrigamiKernels >/dev/null
fi
objdir="$(swift build -c release --show-bin-path)/COrigamiKernels.build"
[[ -d "$objdir" ]] || { echo "no objects in $objdir" >&2; exit 1; }

failures=0
# Helpers that must never be called per element: soft-float conversions and libm.
forbidden='(__extendhfsf2|__truncsfhf2|__truncsfbf2|__extendbfsf2|__truncdfbf2|fmaf?|expf?|exp2f?|erff?|erfcf?|tanhf?|sqrtf?|powf?|logf?|memset|memcpy)(@plt)?>'

# body OBJECT SYMBOL: the disassembly of one function.
body() {
    objdump -d --no-show-raw-insn "$objdir/$1" |
        awk -v start="<$2>:" '$0 ~ start { on = 1; next } on && /^[0-9a-f]+ <[^>]+>:$/ { on = 0 } on'
}

# check OBJECT SYMBOL MODE REQUIRED...: MODE "leaf" allows no call at all, "outer" no call to a forbidden helper.
check() {
    local obj=$1 sym=$2 mode=$3
    shift 3
    local code
    code="$(body "$obj" "$sym")"
    if [[ -z "$code" ]]; then
        echo "FAIL $sym: symbol not found in $obj"; failures=$((failures + 1)); return
    fi
    local problems=()
    if [[ "$mode" == leaf ]] && grep -qE '\scall' <<<"$code"; then
        problems+=("calls $(grep -E '\scall' <<<"$code" | awk '{print $NF}' | sort -u | tr '\n' ' ')")
    fi
    if grep -E '\scall' <<<"$code" | grep -qE "$forbidden"; then
        problems+=("calls a helper: $(grep -E '\scall' <<<"$code" | grep -oE "$forbidden" | sort -u | tr '\n' ' ')")
    fi
    for need in "$@"; do
        grep -qE "$need" <<<"$code" || problems+=("lacks $need")
    done
    if ((${#problems[@]})); then
        echo "FAIL $sym: ${problems[*]}"; failures=$((failures + 1))
    else
        echo "ok   $sym"
    fi
}

# Matrix × vector (decode).
check matvec.c.o matvec_f32 leaf zmm vfmadd231ps
check matvec.c.o matvec_f16 leaf zmm vfmadd231ps vcvtph2ps
check matvec.c.o matvec_bf16 leaf zmm vfmadd231ps vpmovzxwd
# Matrix × matrix micro-kernels.
check gemm_f32.c.o gemm_f32_kernel_2x12 leaf zmm vfmadd231ps
check gemm_f32.c.o gemm_f32_kernel_1x12 leaf zmm vfmadd231ps
check gemm_f32.c.o gemm_f32_kernel_tail leaf zmm vfmadd231ps
check gemm_f32.c.o ok_pack_x_f32 leaf zmm vgatherdps
check gemm_f32.c.o ok_gemm_store_rows leaf zmm
check gemm_bf16.c.o gemm_bf16_kernel_2x12 leaf zmm vdpbf16ps
check gemm_bf16.c.o gemm_bf16_kernel_1x12 leaf zmm vdpbf16ps
check gemm_bf16.c.o gemm_bf16_kernel_tail leaf zmm vdpbf16ps
check gemm_bf16.c.o ok_pack_x_bf16 leaf zmm vcvtne2ps2bf16
check gemm_amx.c.o ok_gemm_amx_rows outer tdpbf16ps tileloadd ldtilecfg tilerelease
check gemm_amx.c.o ok_pack_x_amx leaf zmm vcvtne2ps2bf16
# Quantized weights: int8 rows (VNNI decode, AMX prefill, f32 dequantized) and 4-bit code books.
for sym in i8_vnni_1 i8_vnni_2 i8_vnni_3 i8_vnni_4; do
    check quant_int8.c.o "$sym" leaf zmm vpdpbusd prefetcht0 prefetcht2
done
check quant_int8.c.o i8_dequant_1 leaf zmm vfmadd231ps vcvtdq2ps
check quant_int8.c.o i8_dequant_4 leaf zmm vfmadd231ps vcvtdq2ps
check quant_int8.c.o ok_i8_quantize_rows leaf zmm vcvtps2dq vpmovsdb
check quant_int8.c.o ok_i8_outlier_columns leaf zmm vcmp[a-z]*ps
check quant_int8.c.o ok_i8_outlier_tiles outer zmm vfmadd231ps
check quant_int8.c.o ok_i8_amx_tiles outer tdpbssd tdpbsud tileloadd ldtilecfg tilerelease
for sym in q4_f32_1x2 q4_f32_1 q4_f32_2 q4_f32_3 q4_f32_4; do
    check quant_4bit.c.o "$sym" leaf zmm "vperm(d|ps)" "vfmadd[0-9]+ps" prefetcht0 prefetcht2
done
check quant_4bit.c.o q4_tile_to_bf16 leaf zmm "vperm(d|ps)" vcvtne2ps2bf16 vpermw
check quant_4bit.c.o q4_dequant_some leaf zmm "vperm(d|ps)" vcvtne2ps2bf16 vpermw
check quant_4bit.c.o ok_q4_amx_tiles outer tdpbf16ps tileloadd ldtilecfg tilerelease
check quant_4bit.c.o ok_q4_repack leaf
# Conversions.
check convert.c.o ok_f16_to_f32 leaf zmm vcvtph2ps
check convert.c.o ok_bf16_to_f32 leaf zmm vpmovzxwd
check convert.c.o ok_f32_to_bf16 leaf zmm vcvtne2ps2bf16
check convert.c.o ok_f32_to_f16 leaf zmm vcvtps2ph
# Row kernels: vector exp/erf are inlined polynomials, never libm.
for sym in ok_dot ok_axpy ok_add ok_mul ok_scale ok_relu ok_silu ok_silu_mul ok_gelu_erf ok_gelu_tanh ok_exp_shifted_sum ok_rope ok_stream_read; do
    check vecmath.c.o "$sym" leaf zmm
done
for sym in ok_rmsnorm ok_layernorm ok_softmax; do
    check vecmath.c.o "$sym" outer zmm
done
check vecmath.c.o ok_gelu_erf leaf vscalefps vdivps
check vecmath.c.o ok_silu_mul leaf vscalefps

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all kernel machine-code checks passed"
