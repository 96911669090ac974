// Matrix × matrix in exact f32 for prefill: y[t, r] = Σ_k x[t, k] · W[r, k].
//
// Tokens go across vector lanes (32 per block, packed once per call and shared by all threads); weight elements
// are broadcast straight from their rows, so f32 weights are read in place and f16/bf16 weights only need a
// small row-major f32 copy of the block being worked on. One thread owns a range of output rows, so every weight
// byte is read from memory once per call.
#include "origami_kernels.h"
#include "internal.h"

/// Weight elements per block along k: 12 rows of it (48 KiB) stay in L1 across the token blocks, the 32-token
/// block of x (128 KiB) streams from L2. Measured best of 256...2048 on the TinyLlama shapes.
#ifndef KC
#define KC 1024
#endif
/// Rows per micro-kernel call: 2 × 12 accumulators + 2 x vectors of the 32 zmm registers.
#define NR 12
#ifndef PF_AHEAD
/// Elements ahead of the current column that the first pass over an in-place row prefetches (2 cache lines).
#define PF_AHEAD 32
#endif

void ok_pack_x_f32(const float *x, size_t ldx, int tokens, size_t k, float *xp) {
    const int blocks = (tokens + OK_GEMM_TB - 1) / OK_GEMM_TB;
    for (int b = 0; b < blocks; b++) {
        float *dst = xp + (size_t)b * k * OK_GEMM_TB;
        const int t0 = b * OK_GEMM_TB;
        for (int h = 0; h < 2; h++) {
            const int first = t0 + 16 * h;
            const int valid = tokens - first < 0 ? 0 : (tokens - first > 16 ? 16 : tokens - first);
            const __mmask16 m = ok_mask16((size_t)valid);
            const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                   _mm512_set1_epi32((int)ldx));
            const float *src = x + (size_t)(valid ? first : 0) * ldx;
            for (size_t i = 0; i < k; i++) {
                __m512 v = valid ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + i, 4) : _mm512_setzero_ps();
                _mm512_store_ps(dst + i * OK_GEMM_TB + 16 * h, v);
            }
        }
    }
}

/// c[j][16v + lane] (+)= Σ_k xp[k][16v + lane] · w[j * ldw + k] for v < MV, j < nr.
///
/// `prefetch`: the rows come from memory for the first time (the first token block of an in-place weight block).
/// Each row segment is only KC long, too short for the hardware prefetcher to ramp up, so the kernel asks for every
/// row's line PF_AHEAD elements ahead itself; without it the first pass waits on DRAM latency (~10% slower).
OK_INLINE void kernel(int MV, int nr, const float *xp, const float *w, size_t ldw, size_t kc, float *c, size_t ldc,
                      int accumulate, int prefetch) {
    __m512 acc[2][NR];
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < MV; v++)
            acc[v][j] = accumulate ? _mm512_load_ps(c + j * ldc + 16 * v) : _mm512_setzero_ps();
    for (size_t k0 = 0; k0 < kc; k0 += 16) {
        if (prefetch)
            for (int j = 0; j < nr; j++) _mm_prefetch((const char *)(w + j * ldw + k0 + PF_AHEAD), _MM_HINT_T0);
        const size_t kend = kc - k0 < 16 ? kc : k0 + 16;
        for (size_t k = k0; k < kend; k++) {
            __m512 a[2];
            for (int v = 0; v < MV; v++) a[v] = _mm512_load_ps(xp + k * OK_GEMM_TB + 16 * v);
            for (int j = 0; j < nr; j++) {
                __m512 b = _mm512_set1_ps(w[j * ldw + k]);
                for (int v = 0; v < MV; v++) acc[v][j] = _mm512_fmadd_ps(a[v], b, acc[v][j]);
            }
        }
    }
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < MV; v++) _mm512_store_ps(c + j * ldc + 16 * v, acc[v][j]);
}

__attribute__((noinline)) static void gemm_f32_kernel_2x12(const float *xp, const float *w, size_t ldw, size_t kc,
                                                           float *c, size_t ldc, int accumulate, int prefetch) {
    if (prefetch) kernel(2, NR, xp, w, ldw, kc, c, ldc, accumulate, 1);
    else kernel(2, NR, xp, w, ldw, kc, c, ldc, accumulate, 0);
}
__attribute__((noinline)) static void gemm_f32_kernel_1x12(const float *xp, const float *w, size_t ldw, size_t kc,
                                                           float *c, size_t ldc, int accumulate, int prefetch) {
    if (prefetch) kernel(1, NR, xp, w, ldw, kc, c, ldc, accumulate, 1);
    else kernel(1, NR, xp, w, ldw, kc, c, ldc, accumulate, 0);
}

/// Row-count tails (fewer than NR rows left): one instantiation per count keeps accumulators in registers.
__attribute__((noinline)) static void gemm_f32_kernel_tail(int MV, int nr, const float *xp, const float *w, size_t ldw,
                                                           size_t kc, float *c, size_t ldc, int accumulate) {
#define T(n) case n: if (MV == 2) kernel(2, n, xp, w, ldw, kc, c, ldc, accumulate, 0); \
                     else kernel(1, n, xp, w, ldw, kc, c, ldc, accumulate, 0); break;
    switch (nr) { T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) default: break; }
#undef T
}

/// Writes the transposed accumulators c[j][t] to y[t, r0 + j] with the bias.
void ok_gemm_store_rows(const float *c, size_t ldc, int tokens, size_t nrows, const float *bias, float *y, size_t ldy);

void ok_gemm_store_rows(const float *c, size_t ldc, int tokens, size_t nrows, const float *bias, float *y, size_t ldy) {
    // 16 rows × 16 tokens at a time through a small buffer keeps both sides sequential.
    for (size_t j0 = 0; j0 < nrows; j0 += 16) {
        const size_t nj = nrows - j0 < 16 ? nrows - j0 : 16;
        const __mmask16 m = ok_mask16(nj);
        const __m512 bv = bias ? _mm512_maskz_loadu_ps(m, bias + j0) : _mm512_setzero_ps();
        for (int t = 0; t < tokens; t++) {
            float row[16] __attribute__((aligned(64)));
            for (size_t j = 0; j < nj; j++) row[j] = c[(j0 + j) * ldc + t];
            _mm512_mask_storeu_ps(y + (size_t)t * ldy + j0, m, _mm512_add_ps(_mm512_load_ps(row), bv));
        }
    }
}

bool ok_gemm_f32_rows(int dtype, const float *xp, int tokens, size_t k, const void *w, size_t ldw, size_t r0,
                      size_t r1, const float *bias, float *y, size_t ldy) {
    if (r1 <= r0 || tokens <= 0) return true;
    const size_t rows = r1 - r0;
    const int blocks = (tokens + OK_GEMM_TB - 1) / OK_GEMM_TB;
    const size_t ldc = (size_t)blocks * OK_GEMM_TB;
    float *c = (float *)ok_thread_scratch(0, rows * ldc * sizeof(float));      // [rows, tokens padded]
    float *wbuf = (float *)ok_thread_scratch(1, rows * KC * sizeof(float));   // [rows, KC]
    if (!c || !wbuf) return false;
    const size_t es = ok_dtype_size(dtype);
    for (size_t k0 = 0; k0 < k; k0 += KC) {
        const size_t kc = k - k0 < KC ? k - k0 : KC;
        const float *wb;
        size_t ld;
        if (dtype == OK_F32) {
            wb = (const float *)w + r0 * ldw + k0;
            ld = ldw;
        } else {
            for (size_t r = 0; r < rows; r++) {
                const uint16_t *src = (const uint16_t *)((const char *)w + ((r0 + r) * ldw + k0) * es);
                if (dtype == OK_F16) ok_f16_to_f32(src, wbuf + r * KC, kc);
                else ok_bf16_to_f32(src, wbuf + r * KC, kc);
            }
            wb = wbuf;
            ld = KC;
        }
        for (int b = 0; b < blocks; b++) {
            const float *xb = xp + (size_t)b * k * OK_GEMM_TB + k0 * OK_GEMM_TB;
            const int mv = tokens - b * OK_GEMM_TB > 16 ? 2 : 1;
            float *cb = c + (size_t)b * OK_GEMM_TB;
            size_t j = 0;
            for (; j + NR <= rows; j += NR) {
                const int pf = b == 0 && dtype == OK_F32;
                if (mv == 2) gemm_f32_kernel_2x12(xb, wb + j * ld, ld, kc, cb + j * ldc, ldc, k0 > 0, pf);
                else gemm_f32_kernel_1x12(xb, wb + j * ld, ld, kc, cb + j * ldc, ldc, k0 > 0, pf);
            }
            if (j < rows) gemm_f32_kernel_tail(mv, (int)(rows - j), xb, wb + j * ld, ld, kc, cb + j * ldc, ldc, k0 > 0);
        }
    }
    ok_gemm_store_rows(c, ldc, tokens, rows, bias ? bias + r0 : NULL, y + r0, ldy);
    return true;
}
