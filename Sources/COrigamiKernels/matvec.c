// Matrix × vector for decode: streams each weight row once and keeps x in L1. Memory-bound by design, so the
// only goals are few instructions per loaded byte and enough independent accumulators to hide FMA latency.
#include "origami_kernels.h"
#include "internal.h"

#define ROWS 4

/// `T` vectors against rows [r0, r1); every parameter that selects code is a literal at the call sites below,
/// so each instantiation is fully unrolled with accumulators in registers.
OK_INLINE void matvec_impl(int dtype, int T, const float *x, size_t ldx, const char *w, size_t ldw, size_t n,
                           size_t r0, size_t r1, const float *bias, float *y, size_t ldy) {
    const size_t es = ok_dtype_size(dtype), rb = ldw * es;
    const size_t n16 = n & ~(size_t)15;
    const __mmask16 tail = ok_mask16(n - n16);
    size_t r = r0;
    for (; r + ROWS <= r1; r += ROWS) {
        const char *wr = w + r * rb;
        __m512 acc[4][ROWS];
        for (int t = 0; t < T; t++)
            for (int j = 0; j < ROWS; j++) acc[t][j] = _mm512_setzero_ps();
        for (size_t i = 0; i < n16; i += 16) {
            __m512 wv[ROWS];
            for (int j = 0; j < ROWS; j++) wv[j] = ok_load16(dtype, wr + j * rb + i * es);
            for (int t = 0; t < T; t++) {
                __m512 xv = _mm512_loadu_ps(x + t * ldx + i);
                for (int j = 0; j < ROWS; j++) acc[t][j] = _mm512_fmadd_ps(wv[j], xv, acc[t][j]);
            }
        }
        if (n16 < n) {
            __m512 wv[ROWS];
            for (int j = 0; j < ROWS; j++) wv[j] = ok_load16_masked(dtype, wr + j * rb + n16 * es, tail);
            for (int t = 0; t < T; t++) {
                __m512 xv = _mm512_maskz_loadu_ps(tail, x + t * ldx + n16);
                for (int j = 0; j < ROWS; j++) acc[t][j] = _mm512_fmadd_ps(wv[j], xv, acc[t][j]);
            }
        }
        for (int t = 0; t < T; t++)
            for (int j = 0; j < ROWS; j++)
                y[t * ldy + r + j] = _mm512_reduce_add_ps(acc[t][j]) + (bias ? bias[r + j] : 0.0f);
    }
    for (; r < r1; r++) {
        const char *wr = w + r * rb;
        __m512 acc[4][2];
        for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 32 <= n; i += 32) {
            __m512 w0 = ok_load16(dtype, wr + i * es), w1 = ok_load16(dtype, wr + (i + 16) * es);
            for (int t = 0; t < T; t++) {
                acc[t][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * ldx + i), acc[t][0]);
                acc[t][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * ldx + i + 16), acc[t][1]);
            }
        }
        for (; i < n; i += 16) {
            __mmask16 m = n - i >= 16 ? 0xFFFF : tail;
            __m512 wv = ok_load16_masked(dtype, wr + i * es, m);
            for (int t = 0; t < T; t++)
                acc[t][0] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + t * ldx + i), acc[t][0]);
        }
        for (int t = 0; t < T; t++)
            y[t * ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1])) + (bias ? bias[r] : 0.0f);
    }
}

#define MV(D, T) matvec_impl(D, T, x, ldx, (const char *)w, ldw, n, r0, r1, bias, y, ldy)
#define MV_T(D) do { switch (tokens) { case 1: MV(D, 1); break; case 2: MV(D, 2); break; \
    case 3: MV(D, 3); break; default: MV(D, 4); break; } } while (0)

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
