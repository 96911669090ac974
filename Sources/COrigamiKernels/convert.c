// Row conversions between the stored float formats and f32 (embedding lookup, weight tiles, tests).
#include "origami_kernels.h"
#include "internal.h"

static void to_f32(int dtype, const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = ok_load16(dtype, src + i), b = ok_load16(dtype, src + i + 16);
        __m512 c = ok_load16(dtype, src + i + 32), d = ok_load16(dtype, src + i + 48);
        _mm512_storeu_ps(dst + i, a);
        _mm512_storeu_ps(dst + i + 16, b);
        _mm512_storeu_ps(dst + i + 32, c);
        _mm512_storeu_ps(dst + i + 48, d);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, ok_load16_masked(dtype, src + i, m));
    }
}

void ok_f16_to_f32(const uint16_t *src, float *dst, size_t n) { to_f32(OK_F16, src, dst, n); }
void ok_bf16_to_f32(const uint16_t *src, float *dst, size_t n) { to_f32(OK_BF16, src, dst, n); }

void ok_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm512_storeu_si512(dst + i, ok_f32x32_to_bf16(_mm512_loadu_ps(src + i), _mm512_loadu_ps(src + i + 16)));
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
        __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

void ok_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}
