// Matrix × matrix on AMX tiles (bf16 products, f32 accumulation), used for the bf16 precision when the CPU has
// AMX (Intel Sapphire Rapids and later): one `tdpbf16ps` does 16×16×32 multiply-adds, ~16× an AVX-512 FMA.
//
// Computed transposed: C tile = yᵀ[16 rows, 16 tokens] = W tile [16 rows, 32 k] · xᵀ tile. The weight tile is
// then 16 plain row segments, so bf16 weights are loaded in place with their row stride; x is packed once into
// the pair-interleaved ("VNNI") layout the B operand needs. Tiles: 0-3 accumulators (2 row × 2 token blocks),
// 4-5 weights, 6-7 activations.
#define _GNU_SOURCE
#include "origami_kernels.h"
#include "internal.h"
#include <cpuid.h>
#include <pthread.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

static bool amx_ok = false;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_probe(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const bool tile = (d >> 24) & 1, bf16 = (d >> 22) & 1;
    if (!tile || !bf16) return;
#ifdef __linux__
    // Linux hands out the 8 KiB tile state only on request (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
    // the permission is process-wide.
    amx_ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#endif
}

bool ok_amx_available(void) {
    pthread_once(&amx_once, amx_probe);
    return amx_ok;
}

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/// Pairs of k per 16-token group, padded to whole 32-element tiles.
static size_t amx_pairs(size_t k) { return (k + 31) / 32 * 16; }

void ok_pack_x_amx(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xp) {
    const int groups = (tokens + 15) / 16;
    const size_t pairs = amx_pairs(k);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)ldx));
    static const uint16_t order[32] __attribute__((aligned(64))) = {
        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i interleave = _mm512_load_si512(order);
    for (int g = 0; g < groups; g++) {
        const int first = g * 16, valid = tokens - first > 16 ? 16 : tokens - first;
        const __mmask16 m = ok_mask16((size_t)valid);
        const float *src = x + (size_t)first * ldx;
        uint32_t *dst = (uint32_t *)xp + (size_t)g * pairs * 16;   // [pairs][16 tokens] of bf16 pairs
        for (size_t p = 0; p < pairs; p++) {
            const size_t i = 2 * p;
            __m512 lo = i < k ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + i, 4) : _mm512_setzero_ps();
            __m512 hi = i + 1 < k ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + i + 1, 4)
                                  : _mm512_setzero_ps();
            _mm512_store_si512(dst + p * 16, _mm512_permutexvar_epi16(interleave, ok_f32x32_to_bf16(lo, hi)));
        }
    }
}

/// Rounds rows [0, nr) of `dtype` (`ldw` apart, k long) to bf16 into dst [32][kpad]; other rows/columns zero.
static void round_block_bf16(int dtype, const char *w, size_t ldw, size_t nr, size_t k, size_t kpad, uint16_t *dst) {
    const size_t es = ok_dtype_size(dtype);
    for (size_t r = 0; r < 32; r++) {
        uint16_t *d = dst + r * kpad;
        size_t i = 0;
        if (r < nr) {
            const char *s = w + r * ldw * es;
            for (; i + 16 <= k; i += 16)
                _mm256_store_si256((__m256i *)(d + i), (__m256i)_mm512_cvtneps_pbh(ok_load16(dtype, s + i * es)));
            if (i < k) {
                const __mmask16 m = ok_mask16(k - i);
                _mm256_storeu_si256((__m256i *)(d + i),
                                    (__m256i)_mm512_cvtneps_pbh(ok_load16_masked(dtype, s + i * es, m)));
                i += 16;
            }
        }
        for (; i < kpad; i += 16) _mm256_storeu_si256((__m256i *)(d + i), _mm256_setzero_si256());
    }
}

/// Walks the lines of a block of row segments column by column (line 0 of every row, then line 1, ...), the
/// order in which the tile loads of the next block will want them.
typedef struct {
    const char *base;
    size_t row_bytes, rows, row_lines, per_step;
    size_t row, line;
} prefetcher;

OK_INLINE void prefetch_some(prefetcher *p) {
    for (size_t q = 0; q < p->per_step && p->line < p->row_lines; q++) {
        _mm_prefetch(p->base + p->row * p->row_bytes + p->line * 64, _MM_HINT_T1);
        if (++p->row == p->rows) {
            p->row = 0;
            p->line++;
        }
    }
}

/// Adds bias and writes tile c[16 rows][16 tokens] to y[t, row] for rows < nr, tokens < nt.
static void store_tile(const float *c, size_t nr, size_t nt, const float *bias, float *y, size_t ldy) {
    const __mmask16 m = ok_mask16(nr);
    const __m512 bv = bias ? _mm512_maskz_loadu_ps(m, bias) : _mm512_setzero_ps();
    const __m512i column = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(16));
    for (size_t t = 0; t < nt; t++) {
        __m512 v = _mm512_i32gather_ps(column, c + t, 4);
        _mm512_mask_storeu_ps(y + t * ldy, m, _mm512_add_ps(v, bv));
    }
}

AMX_TARGET bool ok_gemm_amx_rows(int dtype, const uint16_t *xp, int tokens, size_t k, const void *w, size_t ldw,
                                 size_t r0, size_t r1, const float *bias, float *y, size_t ldy) {
    if (!ok_amx_available()) return false;
    if (r1 <= r0 || tokens <= 0) return true;
    const size_t rows = r1 - r0, pairs = amx_pairs(k), kpad = 2 * pairs, steps = pairs / 16;
    const int groups = (tokens + 15) / 16;
    const bool in_place = dtype == OK_BF16 && k % 32 == 0;
    uint16_t *wbuf = (uint16_t *)ok_thread_scratch(1, 32 * kpad * sizeof(uint16_t));   // [32, kpad]
    if (!wbuf) return false;

    tile_config cfg = {0};
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) {
        cfg.colsb[i] = 64;
        cfg.rows[i] = 16;
    }
    _tile_loadconfig(&cfg);
    float cbuf[4][256] __attribute__((aligned(64)));   // one [16 rows, 16 tokens] tile each
    const uint32_t *xq = (const uint32_t *)xp;
    for (size_t rb = 0; rb < rows; rb += 32) {
        const size_t nr = rows - rb < 32 ? rows - rb : 32;
        const uint16_t *a;
        size_t lda;   // bytes
        if (in_place && (nr == 32 || nr == 16)) {
            a = (const uint16_t *)w + (r0 + rb) * ldw;
            lda = ldw * 2;
        } else {
            round_block_bf16(dtype, (const char *)w + (r0 + rb) * ldw * ok_dtype_size(dtype), ldw, nr, k, kpad, wbuf);
            a = wbuf;
            lda = kpad * 2;
        }
        const bool two_a = nr > 16;
        // Pull the next row block's weight rows toward L2 while this one computes, a few lines per k-step: 32
        // concurrent row streams are more than the hardware prefetcher follows, and the first token group of a
        // block (or its bf16 rounding) would otherwise wait on DRAM latency.
        const size_t es = ok_dtype_size(dtype), next = rb + 32;
        prefetcher pf = {0};
        if (next < rows) {
            pf.base = (const char *)w + (r0 + next) * ldw * es;
            pf.row_bytes = ldw * es;
            pf.rows = rows - next < 32 ? rows - next : 32;
            pf.row_lines = (k * es + 63) / 64;
            const size_t total_steps = (size_t)((groups + 1) / 2) * steps;
            pf.per_step = (pf.rows * pf.row_lines + total_steps - 1) / total_steps;
        }
        for (int g = 0; g < groups; g += 2) {
            const bool two_b = g + 1 < groups;
            const uint32_t *b0 = xq + (size_t)g * pairs * 16, *b1 = b0 + pairs * 16;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            if (two_a && two_b) {
                for (size_t s = 0; s < steps; s++) {
                    prefetch_some(&pf);
                    _tile_loadd(4, a + s * 32, lda);
                    _tile_loadd(6, b0 + s * 256, 64);
                    _tile_loadd(5, (const char *)a + 16 * lda + s * 64, lda);
                    _tile_loadd(7, b1 + s * 256, 64);
                    _tile_dpbf16ps(0, 4, 6);
                    _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(2, 5, 6);
                    _tile_dpbf16ps(3, 5, 7);
                }
            } else {
                for (size_t s = 0; s < steps; s++) {
                    prefetch_some(&pf);
                    _tile_loadd(4, a + s * 32, lda);
                    _tile_loadd(6, b0 + s * 256, 64);
                    _tile_dpbf16ps(0, 4, 6);
                    if (two_b) {
                        _tile_loadd(7, b1 + s * 256, 64);
                        _tile_dpbf16ps(1, 4, 7);
                    }
                    if (two_a) {
                        _tile_loadd(5, (const char *)a + 16 * lda + s * 64, lda);
                        _tile_dpbf16ps(2, 5, 6);
                    }
                }
            }
            _tile_stored(0, cbuf[0], 64);
            _tile_stored(1, cbuf[1], 64);
            _tile_stored(2, cbuf[2], 64);
            _tile_stored(3, cbuf[3], 64);
            const size_t t0 = (size_t)g * 16;
            const size_t nt0 = (size_t)tokens - t0 < 16 ? (size_t)tokens - t0 : 16;
            const size_t nt1 = two_b ? ((size_t)tokens - t0 - 16 < 16 ? (size_t)tokens - t0 - 16 : 16) : 0;
            const size_t nr0 = nr < 16 ? nr : 16, nr1 = nr > 16 ? nr - 16 : 0;
            const float *bb = bias ? bias + r0 + rb : NULL;
            float *yb = y + t0 * ldy + r0 + rb;
            store_tile(cbuf[0], nr0, nt0, bb, yb, ldy);
            if (nt1) store_tile(cbuf[1], nr0, nt1, bb, yb + 16 * ldy, ldy);
            if (nr1) store_tile(cbuf[2], nr1, nt0, bb ? bb + 16 : NULL, yb + 16, ldy);
            if (nr1 && nt1) store_tile(cbuf[3], nr1, nt1, bb ? bb + 16 : NULL, yb + 16 * ldy + 16, ldy);
        }
    }
    _tile_release();
    return true;
}
