// Matrix × vector for decode: streams each weight row once and keeps x in L1. Memory-bound by design, so the
// goals are few instructions per loaded byte, several rows in flight, and software prefetch: each thread walks
// 8 row streams at once, more than the hardware prefetcher follows well (without it f16/bf16 reach ~75-80% of
// the streaming-read bandwidth on this machine class, with it ~90-95%).
#include "origami_kernels.h"
#include "internal.h"

/// Bytes ahead of the current column that each row prefetches.
#define PF_BYTES 512

/// `T` vectors against rows [r0, r1), `R` rows at a time; `dtype`, `T` and `R` are literals at the call sites
/// below, so each instantiation is fully unrolled with its accumulators in registers.
OK_INLINE void matvec_impl(int dtype, int T, int R, const float *x, size_t ldx, const char *w, size_t ldw,
                           size_t n, size_t r0, size_t r1, const float *bias, float *y, size_t ldy) {
    const size_t es = ok_dtype_size(dtype), rb = ldw * es;
    const size_t n32 = n & ~(size_t)31;
    size_t r = r0;
    for (; r + R <= r1; r += R) {
        const char *wr = w + r * rb;
        __m512 acc[4][8][2];
        for (int t = 0; t < T; t++)
            for (int j = 0; j < R; j++) acc[t][j][0] = acc[t][j][1] = _mm512_setzero_ps();
        for (size_t i = 0; i < n32; i += 32) {
            for (int j = 0; j < R; j++) {
                _mm_prefetch(wr + j * rb + i * es + PF_BYTES, _MM_HINT_T0);
                if (es == 4) _mm_prefetch(wr + j * rb + i * es + PF_BYTES + 64, _MM_HINT_T0);
            }
            __m512 w0[8], w1[8];
            for (int j = 0; j < R; j++) {
                w0[j] = ok_load16(dtype, wr + j * rb + i * es);
                w1[j] = ok_load16(dtype, wr + j * rb + (i + 16) * es);
            }
            for (int t = 0; t < T; t++) {
                const __m512 x0 = _mm512_loadu_ps(x + t * ldx + i), x1 = _mm512_loadu_ps(x + t * ldx + i + 16);
                for (int j = 0; j < R; j++) {
                    acc[t][j][0] = _mm512_fmadd_ps(w0[j], x0, acc[t][j][0]);
                    acc[t][j][1] = _mm512_fmadd_ps(w1[j], x1, acc[t][j][1]);
                }
            }
        }
        for (size_t i = n32; i < n; i += 16) {
            const __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
            __m512 wv[8];
            for (int j = 0; j < R; j++) wv[j] = ok_load16_masked(dtype, wr + j * rb + i * es, m);
            for (int t = 0; t < T; t++) {
                const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + i);
                for (int j = 0; j < R; j++) acc[t][j][0] = _mm512_fmadd_ps(wv[j], xv, acc[t][j][0]);
            }
        }
        for (int t = 0; t < T; t++)
            for (int j = 0; j < R; j++)
                y[t * ldy + r + j] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][j][0], acc[t][j][1])) +
                                     (bias ? bias[r + j] : 0.0f);
    }
    // Leftover rows one at a time.
    for (; r < r1; r++) {
        const char *wr = w + r * rb;
        __m512 acc[4];
        for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
        for (size_t i = 0; i < n; i += 16) {
            const __mmask16 m = n - i >= 16 ? 0xFFFF : ok_mask16(n - i);
            const __m512 wv = ok_load16_masked(dtype, wr + i * es, m);
            for (int t = 0; t < T; t++) acc[t] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + t * ldx + i), acc[t]);
        }
        for (int t = 0; t < T; t++) y[t * ldy + r] = _mm512_reduce_add_ps(acc[t]) + (bias ? bias[r] : 0.0f);
    }
}

// One token: 8 rows (16 accumulators). More tokens: 4 rows, so tokens × rows × 2 accumulators still fit.
#define MV(D, T, R) matvec_impl(D, T, R, x, ldx, (const char *)w, ldw, n, r0, r1, bias, y, ldy)
#define MV_T(D) do { switch (tokens) { case 1: MV(D, 1, 8); break; case 2: MV(D, 2, 4); break; \
    case 3: MV(D, 3, 4); break; default: MV(D, 4, 2); break; } } while (0)

__attribute__((noinline)) static void matvec_f32(int tokens, const float *x, size_t ldx, const void *w, size_t ldw,
    size_t n, size_t r0, size_t r1, const float *bias, float *y, size_t ldy) { MV_T(OK_F32); }
__attribute__((noinline)) static void matvec_f16(int tokens, const float *x, size_t ldx, const void *w, size_t ldw,
    size_t n, size_t r0, size_t r1, const float *bias, float *y, size_t ldy) { MV_T(OK_F16); }
__attribute__((noinline)) static void matvec_bf16(int tokens, const float *x, size_t ldx, const void *w, size_t ldw,
    size_t n, size_t r0, size_t r1, const float *bias, float *y, size_t ldy) { MV_T(OK_BF16); }

void ok_matvec_multi(int dtype, int tokens, const float *x, size_t ldx, const void *w, size_t ldw, size_t n,
                     size_t r0, size_t r1, const float *bias, float *y, size_t ldy) {
    if (tokens <= 0) return;
    if (tokens > 4) tokens = 4;
    switch (dtype) {
    case OK_F16: matvec_f16(tokens, x, ldx, w, ldw, n, r0, r1, bias, y, ldy); break;
    case OK_BF16: matvec_bf16(tokens, x, ldx, w, ldw, n, r0, r1, bias, y, ldy); break;
    default: matvec_f32(tokens, x, ldx, w, ldw, n, r0, r1, bias, y, ldy); break;
    }
}

void ok_matvec(int dtype, const float *x, const void *w, size_t ldw, size_t n, size_t r0, size_t r1,
               const float *bias, float *y) {
    ok_matvec_multi(dtype, 1, x, n, w, ldw, n, r0, r1, bias, y, 0);
}
