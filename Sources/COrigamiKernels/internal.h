// Helpers shared by the kernel files; not part of the module's public header.
#pragma once
#include <immintrin.h>
#include <stdint.h>
#include <stddef.h>

#define OK_INLINE static inline __attribute__((always_inline))

enum { OK_F32 = 0, OK_F16 = 1, OK_BF16 = 2 };

/// Lanes [0, n) set, n ≤ 16.
OK_INLINE __mmask16 ok_mask16(size_t n) { return (__mmask16)((1u << n) - 1u); }
OK_INLINE __mmask32 ok_mask32(size_t n) { return n >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << n) - 1u); }

/// 16 bf16 → 16 f32: bf16 is the top half of an f32.
OK_INLINE __m512 ok_bf16x16_to_f32(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

/// 16 elements of `dtype` at `p` as f32.
OK_INLINE __m512 ok_load16(int dtype, const void *p) {
    switch (dtype) {
    case OK_F16: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    case OK_BF16: return ok_bf16x16_to_f32(_mm256_loadu_si256((const __m256i *)p));
    default: return _mm512_loadu_ps(p);
    }
}

/// The first `m` lanes of 16 elements, zero elsewhere; reads nothing past them.
OK_INLINE __m512 ok_load16_masked(int dtype, const void *p, __mmask16 m) {
    switch (dtype) {
    case OK_F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    case OK_BF16: return ok_bf16x16_to_f32(_mm256_maskz_loadu_epi16(m, p));
    default: return _mm512_maskz_loadu_ps(m, p);
    }
}

OK_INLINE size_t ok_dtype_size(int dtype) { return dtype == OK_F32 ? 4 : 2; }

/// Two f32 vectors → 32 bf16 (round to nearest even); `lo` gives the low 16.
OK_INLINE __m512i ok_f32x32_to_bf16(__m512 lo, __m512 hi) {
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/// A 32-bit word from memory that may be only 2-byte aligned (a bf16 pair inside a mapped weight row).
OK_INLINE uint32_t ok_load_u32(const uint32_t *p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}
