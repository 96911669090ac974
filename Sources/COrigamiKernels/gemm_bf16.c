// Matrix × matrix with bf16 products and f32 accumulation (`vdpbf16ps`) for prefill.
//
// Same shape as gemm_f32.c, but each 32-bit lane holds a pair of adjacent k values: x is packed as
// [block][k/2][32 tokens][2], and a weight pair (W[r, k], W[r, k+1]) is one 32-bit broadcast. bf16 weights with
// an even row length are therefore read in place; f16/f32 weights are rounded to bf16 block by block.
#include "origami_kernels.h"
#include "internal.h"

#ifndef KC2
/// k pairs per block: the 32-token block of x (32 KiB) stays in L1.
#define KC2 256
#endif
#define NR 12

void ok_pack_x_bf16(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xp) {
    const int blocks = (tokens + OK_GEMM_TB - 1) / OK_GEMM_TB;
    const size_t k2 = (k + 1) / 2;
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i idx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)ldx));
    static const uint16_t order[32] __attribute__((aligned(64))) = {
        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i interleave = _mm512_load_si512(order);
    for (int b = 0; b < blocks; b++) {
        uint32_t *dst = (uint32_t *)xp + (size_t)b * k2 * OK_GEMM_TB;
        for (int h = 0; h < 2; h++) {
            const int first = b * OK_GEMM_TB + 16 * h;
            const int valid = tokens - first < 0 ? 0 : (tokens - first > 16 ? 16 : tokens - first);
            const __mmask16 m = ok_mask16((size_t)valid);
            const float *src = x + (size_t)(valid ? first : 0) * ldx;
            for (size_t p = 0; p < k2; p++) {
                const size_t i = 2 * p;
                __m512 lo = valid ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + i, 4) : _mm512_setzero_ps();
                __m512 hi = (valid && i + 1 < k) ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + i + 1, 4)
                                                 : _mm512_setzero_ps();
                // Round both to bf16 and interleave: lane t = (lo[t], hi[t]).
                __m512i packed = ok_f32x32_to_bf16(lo, hi);          // [lo0..lo15, hi0..hi15] as u16
                _mm512_store_si512(dst + p * OK_GEMM_TB + 16 * h, _mm512_permutexvar_epi16(interleave, packed));
            }
        }
    }
}

/// c[j][16v + lane] (+)= Σ_p dot2(xp[p][16v + lane], w[j * ldw + p]) for v < MV, j < nr; w and ldw in pairs.
/// `prefetch` as in gemm_f32.c: the first pass over in-place rows asks for each row's line ahead itself.
OK_INLINE void kernel(int MV, int nr, const uint32_t *xp, const uint32_t *w, size_t ldw, size_t kc2, float *c,
                      size_t ldc, int accumulate, int prefetch) {
    __m512 acc[2][NR];
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < MV; v++)
            acc[v][j] = accumulate ? _mm512_load_ps(c + j * ldc + 16 * v) : _mm512_setzero_ps();
    for (size_t p0 = 0; p0 < kc2; p0 += 16) {
        if (prefetch)
            for (int j = 0; j < nr; j++) _mm_prefetch((const char *)(w + j * ldw + p0 + 32), _MM_HINT_T0);
        const size_t pend = kc2 - p0 < 16 ? kc2 : p0 + 16;
        for (size_t p = p0; p < pend; p++) {
            __m512bh a[2];
            for (int v = 0; v < MV; v++) a[v] = (__m512bh)_mm512_load_si512(xp + p * OK_GEMM_TB + 16 * v);
            for (int j = 0; j < nr; j++) {
                __m512bh b = (__m512bh)_mm512_set1_epi32((int)ok_load_u32(w + j * ldw + p));
                for (int v = 0; v < MV; v++) acc[v][j] = _mm512_dpbf16_ps(acc[v][j], a[v], b);
            }
        }
    }
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < MV; v++) _mm512_store_ps(c + j * ldc + 16 * v, acc[v][j]);
}

__attribute__((noinline)) static void gemm_bf16_kernel_2x12(const uint32_t *xp, const uint32_t *w, size_t ldw,
                                                            size_t kc2, float *c, size_t ldc, int accumulate,
                                                            int prefetch) {
    if (prefetch) kernel(2, NR, xp, w, ldw, kc2, c, ldc, accumulate, 1);
    else kernel(2, NR, xp, w, ldw, kc2, c, ldc, accumulate, 0);
}
__attribute__((noinline)) static void gemm_bf16_kernel_1x12(const uint32_t *xp, const uint32_t *w, size_t ldw,
                                                            size_t kc2, float *c, size_t ldc, int accumulate,
                                                            int prefetch) {
    if (prefetch) kernel(1, NR, xp, w, ldw, kc2, c, ldc, accumulate, 1);
    else kernel(1, NR, xp, w, ldw, kc2, c, ldc, accumulate, 0);
}
__attribute__((noinline)) static void gemm_bf16_kernel_tail(int MV, int nr, const uint32_t *xp, const uint32_t *w,
                                                            size_t ldw, size_t kc2, float *c, size_t ldc,
                                                            int accumulate) {
#define T(n) case n: if (MV == 2) kernel(2, n, xp, w, ldw, kc2, c, ldc, accumulate, 0); \
                     else kernel(1, n, xp, w, ldw, kc2, c, ldc, accumulate, 0); break;
    switch (nr) { T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) default: break; }
#undef T
}

void ok_gemm_store_rows(const float *c, size_t ldc, int tokens, size_t nrows, const float *bias, float *y, size_t ldy);

/// Rounds `n` elements of `dtype` to bf16, zero-filling up to `padded` (even) elements.
static void round_row_bf16(int dtype, const void *src, uint16_t *dst, size_t n, size_t padded) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const char *s = (const char *)src + i * ok_dtype_size(dtype);
        __m512 lo = ok_load16(dtype, s), hi = ok_load16(dtype, s + 16 * ok_dtype_size(dtype));
        _mm512_storeu_si512(dst + i, ok_f32x32_to_bf16(lo, hi));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
        __m512 v = ok_load16_masked(dtype, (const char *)src + i * ok_dtype_size(dtype), m);
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)_mm512_cvtneps_pbh(v));
    }
    for (; n < padded; n++) dst[n] = 0;
}

bool ok_gemm_bf16_rows(int dtype, const uint16_t *xp, int tokens, size_t k, const void *w, size_t ldw, size_t r0,
                       size_t r1, const float *bias, float *y, size_t ldy) {
    if (r1 <= r0 || tokens <= 0) return true;
    const size_t rows = r1 - r0, k2 = (k + 1) / 2;
    const int blocks = (tokens + OK_GEMM_TB - 1) / OK_GEMM_TB;
    const size_t ldc = (size_t)blocks * OK_GEMM_TB;
    const bool in_place = dtype == OK_BF16 && k % 2 == 0 && ldw % 2 == 0;
    float *c = (float *)ok_thread_scratch(0, rows * ldc * sizeof(float));           // [rows, tokens padded]
    uint32_t *wbuf = (uint32_t *)ok_thread_scratch(1, rows * KC2 * sizeof(uint32_t)); // [rows, KC2 pairs]
    if (!c || !wbuf) return false;
    const size_t es = ok_dtype_size(dtype);
    for (size_t p0 = 0; p0 < k2; p0 += KC2) {
        const size_t kc2 = k2 - p0 < KC2 ? k2 - p0 : KC2;
        const uint32_t *wb;
        size_t ld;
        if (in_place) {
            wb = (const uint32_t *)w + (r0 * ldw) / 2 + p0;
            ld = ldw / 2;
        } else {
            const size_t kk = 2 * p0, n = k - kk < 2 * kc2 ? k - kk : 2 * kc2;
            for (size_t r = 0; r < rows; r++)
                round_row_bf16(dtype, (const char *)w + ((r0 + r) * ldw + kk) * es, (uint16_t *)(wbuf + r * KC2),
                               n, 2 * kc2);
            wb = wbuf;
            ld = KC2;
        }
        for (int b = 0; b < blocks; b++) {
            const uint32_t *xb = (const uint32_t *)xp + ((size_t)b * k2 + p0) * OK_GEMM_TB;
            const int mv = tokens - b * OK_GEMM_TB > 16 ? 2 : 1;
            float *cb = c + (size_t)b * OK_GEMM_TB;
            size_t j = 0;
            for (; j + NR <= rows; j += NR) {
                const int pf = b == 0 && in_place;
                if (mv == 2) gemm_bf16_kernel_2x12(xb, wb + j * ld, ld, kc2, cb + j * ldc, ldc, p0 > 0, pf);
                else gemm_bf16_kernel_1x12(xb, wb + j * ld, ld, kc2, cb + j * ldc, ldc, p0 > 0, pf);
            }
            if (j < rows) gemm_bf16_kernel_tail(mv, (int)(rows - j), xb, wb + j * ld, ld, kc2, cb + j * ldc, ldc, p0 > 0);
        }
    }
    ok_gemm_store_rows(c, ldc, tokens, rows, bias ? bias + r0 : NULL, y + r0, ldy);
    return true;
}
