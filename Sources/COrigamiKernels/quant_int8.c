// Int8 weights with one scale per output row (bitsandbytes' absmax `CB`/`SCB`, or UInt8 codes with a zero point),
// multiplied by activations quantized per token on the fly (LLM.int8()'s vector-wise quantization).
//
// Every kernel reads the packed tile layout described in origami_kernels.h: a tile is one sequential stream of
// 64-byte lines, line q = columns 4q..4q+3 of 16 rows, which is exactly what `vpdpbusd` wants as its weight operand
// (lane j = row j, four activations broadcast), so decode has no horizontal reductions and no shuffles: one load,
// one broadcast and one `vpdpbusd` per 64 weights leaves the loop bound by memory alone.
#include "origami_kernels.h"
#include "internal.h"
#include <math.h>
#include <string.h>

/// Decode prefetches each line far ahead into L2 and closer into L1 (as quant_4bit.c): the hardware prefetchers
/// alone leave 10% (VNNI) to 40% (the f32 kernel, which consumes lines more slowly) of the bandwidth unused.
#define I8_PF_FAR 32768
#define I8_PF_NEAR 1024

void ok_i8_repack(const uint8_t *codes, size_t rows, size_t cols, size_t kpad, uint8_t pad, size_t t0, size_t t1,
                  uint8_t *dst, int32_t *row_sums) {
    const size_t quads = kpad / 4;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i padv = _mm512_set1_epi8((char)pad);
    for (size_t t = t0; t < t1; t++) {
        uint8_t *tile = dst + t * quads * 64;
        const size_t r0 = t * OK_Q_TILE, nr = rows - r0 < OK_Q_TILE ? rows - r0 : OK_Q_TILE;
        const __mmask16 rm = ok_mask16(nr);
        // Line q gathers the dword at column 4q of each of the tile's rows.
        const __m512i offsets = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)cols));
        const uint8_t *base = codes + r0 * cols;
        size_t q = 0;
        if (cols >= 4 && cols < (1u << 27))
            for (; 4 * q + 4 <= cols; q++)
                _mm512_store_si512(tile + q * 64, _mm512_mask_i32gather_epi32(padv, rm, offsets, base + 4 * q, 1));
        for (; q < quads; q++) {
            uint32_t line[16];
            for (size_t j = 0; j < OK_Q_TILE; j++) {
                uint8_t b[4];
                for (size_t i = 0; i < 4; i++) b[i] = j < nr && 4 * q + i < cols ? base[j * cols + 4 * q + i] : pad;
                memcpy(&line[j], b, 4);
            }
            memcpy(tile + q * 64, line, 64);
        }
        if (row_sums)
            for (size_t j = 0; j < nr; j++) {
                // Σ (c + 128) with vpsadbw on the sign-flipped bytes, then − 128 · cols.
                const uint8_t *row = base + j * cols;
                __m512i acc = _mm512_setzero_si512();
                const __m512i flip = _mm512_set1_epi8((char)0x80);
                for (size_t c = 0; c < cols; c += 64) {
                    const __mmask64 m = cols - c >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (cols - c)) - 1);
                    const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, row + c), flip);
                    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_mov_epi8(m, v), _mm512_setzero_si512()));
                }
                row_sums[r0 + j] = (int32_t)((int64_t)_mm512_reduce_add_epi64(acc) - 128 * (int64_t)cols);
            }
    }
}

/// x, rounded through f16 when asked (bitsandbytes casts activations to float16 before quantizing them).
OK_INLINE __m512 load_act(const float *p, __mmask16 m, bool through_half) {
    __m512 v = _mm512_maskz_loadu_ps(m, p);
    if (through_half) v = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return v;
}

OK_INLINE __m512 abs_ps(__m512 v) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF))); }

size_t ok_i8_outlier_columns(const float *x, size_t ldx, int tokens, size_t k, bool through_half, float threshold,
                             int32_t *cols) {
    size_t n = 0;
    const __m512 thr = _mm512_set1_ps(threshold);
    for (size_t c = 0; c < k; c += 16) {
        const __mmask16 m = k - c >= 16 ? 0xFFFF : ok_mask16(k - c);
        __mmask16 hit = 0;
        for (int t = 0; t < tokens; t++)
            hit |= _mm512_mask_cmp_ps_mask(m, abs_ps(load_act(x + (size_t)t * ldx + c, m, through_half)), thr, _CMP_GE_OQ);
        while (hit) {
            cols[n++] = (int32_t)(c + (size_t)__builtin_ctz(hit));
            hit &= (__mmask16)(hit - 1);
        }
    }
    return n;
}

void ok_i8_quantize_rows(const float *x, size_t ldx, int tokens, size_t k, bool through_half, float threshold,
                         const int32_t *zero_cols, size_t nzero, int8_t *xq, size_t ldq, float *absmax, int32_t *sums) {
    const __m512 thr = _mm512_set1_ps(threshold);
    for (int t = 0; t < tokens; t++) {
        const float *xr = x + (size_t)t * ldx;
        int8_t *q = xq + (size_t)t * ldq;
        // Values at or above the threshold are outliers: left out of the absmax and quantized as 0.
        __m512 mx = _mm512_setzero_ps();
        for (size_t c = 0; c < k; c += 16) {
            const __mmask16 m = k - c >= 16 ? 0xFFFF : ok_mask16(k - c);
            const __m512 a = abs_ps(load_act(xr + c, m, through_half));
            mx = _mm512_mask_max_ps(mx, _mm512_cmp_ps_mask(a, thr, _CMP_LT_OQ), mx, a);
        }
        const float amax = _mm512_reduce_max_ps(mx);
        absmax[t] = amax;
        if (amax > 0) {
            // round(x · (127 / absmax)) as torch computes it: the reciprocal rounded to f32 first, ties to even
            // (the default MXCSR rounding of vcvtps2dq).
            const __m512 inv = _mm512_set1_ps(127.0f / amax);
            for (size_t c = 0; c < k; c += 16) {
                const __mmask16 m = k - c >= 16 ? 0xFFFF : ok_mask16(k - c);
                const __m512 v = load_act(xr + c, m, through_half);
                const __mmask16 keep = _mm512_cmp_ps_mask(abs_ps(v), thr, _CMP_LT_OQ);
                const __m512i iv = _mm512_maskz_cvtps_epi32(keep, _mm512_mul_ps(v, inv));
                // Lanes past k are zero: the store also clears the padding up to the next 16.
                _mm_mask_storeu_epi8(q + c, ok_mask16(ldq - c < 16 ? ldq - c : 16), _mm512_cvtsepi32_epi8(iv));
            }
        }
        for (size_t c = amax > 0 ? (k + 15) / 16 * 16 : 0; c < ldq; c += 16)
            _mm_mask_storeu_epi8(q + c, ok_mask16(ldq - c < 16 ? ldq - c : 16), _mm_setzero_si128());
        for (size_t i = 0; i < nzero; i++) q[zero_cols[i]] = 0;
        if (sums) {
            __m512i s = _mm512_setzero_si512();
            for (size_t c = 0; c < k; c += 16) {
                const __mmask16 m = k - c >= 16 ? 0xFFFF : ok_mask16(k - c);
                s = _mm512_add_epi32(s, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q + c)));
            }
            sums[t] = _mm512_reduce_add_epi32(s);
        }
    }
}

/// Integer sums of 16 rows for token t → floats, written to y[t * ldy + tile rows] (valid rows only).
/// `offset_sym`: the sums include +128 · Σ_c q_w (the unsigned activation offset of `vpdpbusd`).
OK_INLINE void i8_epilogue(const ok_i8_matrix *w, const ok_i8_acts *x, int t, size_t tile, __m512i acc,
                           bool offset_sym, const float *bias, float *y, size_t ldy) {
    const size_t r0 = tile * OK_Q_TILE;
    const size_t nr = w->rows - r0 < OK_Q_TILE ? w->rows - r0 : OK_Q_TILE;
    const __mmask16 m = ok_mask16(nr);
    __m512 f;
    if (w->zero_point) {
        // Σ x_q · (q − zero) = acc − rint(zero) · Σ x_q (exact in int32) − frac(zero) · Σ x_q.
        const int32_t sum = x->sum[t];
        const __m512i zi = _mm512_loadu_si512(w->zero_int + r0);
        f = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_mullo_epi32(zi, _mm512_set1_epi32(sum))));
        f = _mm512_sub_ps(f, _mm512_mul_ps(_mm512_loadu_ps(w->zero_frac + r0), _mm512_set1_ps((float)sum)));
    } else {
        if (offset_sym) acc = _mm512_sub_epi32(acc, _mm512_slli_epi32(_mm512_loadu_si512(w->row_sum + r0), 7));
        f = _mm512_cvtepi32_ps(acc);
    }
    // acc · (absmax_x · scale) · rescale + bias, in bitsandbytes' order (int8_mm_dequant).
    f = _mm512_mul_ps(f, _mm512_mul_ps(_mm512_set1_ps(x->absmax[t]), _mm512_loadu_ps(w->scale + r0)));
    f = _mm512_mul_ps(f, _mm512_set1_ps(w->rescale));
    if (bias) f = _mm512_add_ps(f, _mm512_maskz_loadu_ps(m, bias + r0));
    _mm512_mask_storeu_ps(y + (size_t)t * ldy + r0, m, f);
}

/// One 4-byte group of activations broadcast to every lane: unsigned (offset by 128) against signed codes,
/// signed against unsigned zero-point codes.
OK_INLINE __m512i act4(const int8_t *p, bool zp) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return _mm512_set1_epi32((int)(zp ? v : v ^ 0x80808080u));
}

/// `T` tokens (literal) against one tile, `U` lines per step, `U × T` accumulators.
OK_INLINE void i8_vnni_impl(int T, int U, const ok_i8_matrix *w, const ok_i8_acts *x, int t0, size_t tile,
                            const float *bias, float *y, size_t ldy) {
    const bool zp = w->zero_point;
    const uint8_t *wt = w->codes + tile * w->quads * 64;
    __m512i acc[4][4];
    for (int t = 0; t < T; t++)
        for (int u = 0; u < U; u++) acc[t][u] = _mm512_setzero_si512();
    for (size_t q = 0; q < w->quads; q += U) {
        for (int u = 0; u < U; u++) {
            _mm_prefetch((const char *)wt + (q + u) * 64 + I8_PF_FAR, _MM_HINT_T2);
            _mm_prefetch((const char *)wt + (q + u) * 64 + I8_PF_NEAR, _MM_HINT_T0);
        }
        for (int u = 0; u < U; u++) {
            const __m512i line = _mm512_load_si512(wt + (q + u) * 64);
            for (int t = 0; t < T; t++) {
                const __m512i a = act4(x->q + (size_t)(t0 + t) * x->ld + 4 * (q + u), zp);
                acc[t][u] = zp ? _mm512_dpbusd_epi32(acc[t][u], line, a) : _mm512_dpbusd_epi32(acc[t][u], a, line);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        __m512i s = acc[t][0];
        for (int u = 1; u < U; u++) s = _mm512_add_epi32(s, acc[t][u]);
        i8_epilogue(w, x, t0 + t, tile, s, !zp, bias, y, ldy);
    }
}

// One instantiation per token count keeps the accumulators in registers; 4 chains hide the latency of vpdpbusd.
__attribute__((noinline)) static void i8_vnni_1(const ok_i8_matrix *w, const ok_i8_acts *x, int t0, size_t tile,
                                                const float *bias, float *y, size_t ldy) {
    i8_vnni_impl(1, 4, w, x, t0, tile, bias, y, ldy);
}
__attribute__((noinline)) static void i8_vnni_2(const ok_i8_matrix *w, const ok_i8_acts *x, int t0, size_t tile,
                                                const float *bias, float *y, size_t ldy) {
    i8_vnni_impl(2, 4, w, x, t0, tile, bias, y, ldy);
}
__attribute__((noinline)) static void i8_vnni_3(const ok_i8_matrix *w, const ok_i8_acts *x, int t0, size_t tile,
                                                const float *bias, float *y, size_t ldy) {
    i8_vnni_impl(3, 2, w, x, t0, tile, bias, y, ldy);
}
__attribute__((noinline)) static void i8_vnni_4(const ok_i8_matrix *w, const ok_i8_acts *x, int t0, size_t tile,
                                                const float *bias, float *y, size_t ldy) {
    i8_vnni_impl(4, 2, w, x, t0, tile, bias, y, ldy);
}

void ok_i8_vnni_tiles(const ok_i8_matrix *w, const ok_i8_acts *x, int tokens, size_t t0, size_t t1,
                      const float *bias, float *y, size_t ldy) {
    for (size_t tile = t0; tile < t1; tile++) {
        for (int t = 0; t < tokens; t += 4) {
            switch (tokens - t) {
            case 1: i8_vnni_1(w, x, t, tile, bias, y, ldy); break;
            case 2: i8_vnni_2(w, x, t, tile, bias, y, ldy); break;
            case 3: i8_vnni_3(w, x, t, tile, bias, y, ldy); break;
            default: i8_vnni_4(w, x, t, tile, bias, y, ldy); break;
            }
        }
    }
}

/// Column `i` (0-3) of each dword of a line as 16 floats: signed bytes, or unsigned bytes minus the zero point.
OK_INLINE __m512 i8_column(__m512i line, int i, bool zp, __m512 zero) {
    if (zp) return _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(line, 8 * i), _mm512_set1_epi32(0xFF))), zero);
    return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(line, 24 - 8 * i), 24));
}

/// Per-row factor of the dequantized weight: absmax · (1/127) (bitsandbytes' int8_vectorwise_dequant multiplies
/// by the reciprocal, 7.874015718698502e-3) or the zero-point scale.
OK_INLINE __m512 i8_row_factor(const ok_i8_matrix *w, size_t r0) {
    const __m512 s = _mm512_loadu_ps(w->scale + r0);
    return w->zero_point ? s : _mm512_mul_ps(s, _mm512_set1_ps(7.874015718698502e-3f));
}

OK_INLINE void i8_dequant_impl(int T, const ok_i8_matrix *w, const float *x, size_t ldx, size_t k, size_t tile,
                               const float *bias, float *y, size_t ldy) {
    const bool zp = w->zero_point;
    const size_t r0 = tile * OK_Q_TILE;
    const uint8_t *wt = w->codes + tile * w->quads * 64;
    const __m512 zero = zp ? _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(w->zero_int + r0)),
                                           _mm512_loadu_ps(w->zero_frac + r0))
                           : _mm512_setzero_ps();
    __m512 acc[4][2];
    for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    const size_t kq = (k + 3) / 4;
    for (size_t q = 0; q < kq; q++) {
        _mm_prefetch((const char *)wt + q * 64 + I8_PF_FAR, _MM_HINT_T2);
        _mm_prefetch((const char *)wt + q * 64 + 4 * I8_PF_NEAR, _MM_HINT_T0);
        const __m512i line = _mm512_load_si512(wt + q * 64);
        const size_t c = 4 * q, n = k - c < 4 ? k - c : 4;
        for (size_t i = 0; i < n; i++) {
            const __m512 wv = i8_column(line, (int)i, zp, zero);
            for (int t = 0; t < T; t++)
                acc[t][i & 1] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[(size_t)t * ldx + c + i]), acc[t][i & 1]);
        }
    }
    const size_t nr = w->rows - r0 < OK_Q_TILE ? w->rows - r0 : OK_Q_TILE;
    const __mmask16 m = ok_mask16(nr);
    const __m512 f = i8_row_factor(w, r0);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + r0) : _mm512_setzero_ps();
    for (int t = 0; t < T; t++)
        _mm512_mask_storeu_ps(y + (size_t)t * ldy + r0, m, _mm512_add_ps(_mm512_mul_ps(_mm512_add_ps(acc[t][0], acc[t][1]), f), b));
}

__attribute__((noinline)) static void i8_dequant_1(const ok_i8_matrix *w, const float *x, size_t ldx, size_t k,
                                                   size_t tile, const float *bias, float *y, size_t ldy) {
    i8_dequant_impl(1, w, x, ldx, k, tile, bias, y, ldy);
}
__attribute__((noinline)) static void i8_dequant_4(int T, const ok_i8_matrix *w, const float *x, size_t ldx, size_t k,
                                                   size_t tile, const float *bias, float *y, size_t ldy) {
    switch (T) {
    case 2: i8_dequant_impl(2, w, x, ldx, k, tile, bias, y, ldy); break;
    case 3: i8_dequant_impl(3, w, x, ldx, k, tile, bias, y, ldy); break;
    default: i8_dequant_impl(4, w, x, ldx, k, tile, bias, y, ldy); break;
    }
}

void ok_i8_dequant_tiles(const ok_i8_matrix *w, const float *x, size_t ldx, int tokens, size_t k, size_t t0,
                         size_t t1, const float *bias, float *y, size_t ldy) {
    for (size_t tile = t0; tile < t1; tile++)
        for (int t = 0; t < tokens; t += 4) {
            const int n = tokens - t < 4 ? tokens - t : 4;
            if (n == 1) i8_dequant_1(w, x + (size_t)t * ldx, ldx, k, tile, bias, y + (size_t)t * ldy, ldy);
            else i8_dequant_4(n, w, x + (size_t)t * ldx, ldx, k, tile, bias, y + (size_t)t * ldy, ldy);
        }
}

bool ok_i8_outlier_tiles(const ok_i8_matrix *w, const float *x, size_t ldx, int tokens, const int32_t *cols,
                         size_t ncols, size_t t0, size_t t1, float *y, size_t ldy) {
    if (ncols == 0 || tokens <= 0) return true;
    // The dequantized columns of one tile, [ncols][16], reused by every token.
    float *wc = (float *)ok_thread_scratch(0, ncols * 64);
    if (!wc) return false;
    const bool zp = w->zero_point;
    for (size_t tile = t0; tile < t1; tile++) {
        const size_t r0 = tile * OK_Q_TILE;
        const uint8_t *wt = w->codes + tile * w->quads * 64;
        const __m512 s = _mm512_loadu_ps(w->scale + r0);
        const __m512 zero = zp ? _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(w->zero_int + r0)),
                                               _mm512_loadu_ps(w->zero_frac + r0))
                               : _mm512_setzero_ps();
        for (size_t i = 0; i < ncols; i++) {
            const size_t c = (size_t)cols[i];
            const __m512 q = i8_column(_mm512_load_si512(wt + (c / 4) * 64), (int)(c % 4), zp, zero);
            // bitsandbytes: (CB · SCB) · (1/127), each product rounded to f32.
            const __m512 v = zp ? _mm512_mul_ps(q, s) : _mm512_mul_ps(_mm512_mul_ps(q, s), _mm512_set1_ps(7.874015718698502e-3f));
            _mm512_store_ps(wc + 16 * i, v);
        }
        const size_t nr = w->rows - r0 < OK_Q_TILE ? w->rows - r0 : OK_Q_TILE;
        const __mmask16 m = ok_mask16(nr);
        for (int t = 0; t < tokens; t++) {
            const float *xr = x + (size_t)t * ldx;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            size_t i = 0;
            for (; i + 2 <= ncols; i += 2) {
                a0 = _mm512_fmadd_ps(_mm512_load_ps(wc + 16 * i), _mm512_set1_ps(xr[cols[i]]), a0);
                a1 = _mm512_fmadd_ps(_mm512_load_ps(wc + 16 * i + 16), _mm512_set1_ps(xr[cols[i + 1]]), a1);
            }
            if (i < ncols) a0 = _mm512_fmadd_ps(_mm512_load_ps(wc + 16 * i), _mm512_set1_ps(xr[cols[i]]), a0);
            float *yr = y + (size_t)t * ldy + r0;
            _mm512_mask_storeu_ps(yr, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, yr), _mm512_add_ps(a0, a1)));
        }
    }
    return true;
}

// MARK: - AMX int8

#define AMX_INT8 __attribute__((target("amx-tile,amx-int8")))

bool ok_amx_int8_available(void) {
    static int state = -1;   // racing first calls compute the same answer
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (s < 0) {
        unsigned a, b, c, d;
        __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        // The tile permission (asked for by ok_amx_available) covers every AMX type; int8 is CPUID.7.0:EDX[25].
        s = ((d >> 25) & 1) && ok_amx_available();
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s != 0;
}

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} i8_tile_config;

/// C = x (A, 16 tokens × 64 k) · W (B, 16 k-quads × 16 rows × 4): tiles 0-3 accumulate 2 token tiles × 2 row
/// tiles; 4-5 hold activations, 6-7 weights. Each B tile is 16 consecutive lines of the packed layout (1 KiB), so
/// the weights are read where they lie; the int32 tile rows are tokens, already in the order y stores them.
AMX_INT8 bool ok_i8_amx_tiles(const ok_i8_matrix *w, const ok_i8_acts *x, int tokens, size_t t0, size_t t1,
                              const float *bias, float *y, size_t ldy) {
    if (!ok_amx_int8_available()) return false;
    if (t1 <= t0 || tokens <= 0) return true;
    i8_tile_config cfg = {0};
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) {
        cfg.colsb[i] = 64;
        cfg.rows[i] = 16;
    }
    _tile_loadconfig(&cfg);
    int32_t cbuf[4][256] __attribute__((aligned(64)));   // [16 tokens][16 rows] each
    const size_t steps = w->quads / 16, tile_bytes = w->quads * 64;
    const int groups = (tokens + 15) / 16;
    const bool zp = w->zero_point;
    for (size_t tile = t0; tile < t1; tile += 2) {
        const bool two_b = tile + 1 < t1;
        const uint8_t *b0 = w->codes + tile * tile_bytes, *b1 = b0 + tile_bytes;
        // Pull the next tile pair toward L2 while this one computes, spread over every step of every token pair.
        const char *next = (const char *)b0 + 2 * tile_bytes;
        const size_t next_bytes = tile + 2 < t1 ? (t1 - tile - 2 >= 2 ? 2 : 1) * tile_bytes : 0;
        const size_t total_steps = (size_t)((groups + 1) / 2) * steps;
        const size_t pf_per_step = total_steps ? (next_bytes / 64 + total_steps - 1) / total_steps : 0;
        size_t pf = 0;
        for (int g = 0; g < groups; g += 2) {
            const bool two_a = g + 1 < groups;
            const int8_t *a0 = x->q + (size_t)g * 16 * x->ld, *a1 = a0 + 16 * x->ld;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (size_t s = 0; s < steps; s++) {
                for (size_t i = 0; i < pf_per_step && pf < next_bytes; i++, pf += 64) _mm_prefetch(next + pf, _MM_HINT_T1);
                _tile_loadd(6, b0 + s * 1024, 64);
                _tile_loadd(4, a0 + s * 64, x->ld);
                if (zp) _tile_dpbsud(0, 4, 6); else _tile_dpbssd(0, 4, 6);
                if (two_b) {
                    _tile_loadd(7, b1 + s * 1024, 64);
                    if (zp) _tile_dpbsud(2, 4, 7); else _tile_dpbssd(2, 4, 7);
                }
                if (two_a) {
                    _tile_loadd(5, a1 + s * 64, x->ld);
                    if (zp) _tile_dpbsud(1, 5, 6); else _tile_dpbssd(1, 5, 6);
                    if (two_b) {
                        if (zp) _tile_dpbsud(3, 5, 7); else _tile_dpbssd(3, 5, 7);
                    }
                }
            }
            _tile_stored(0, cbuf[0], 64);
            _tile_stored(1, cbuf[1], 64);
            _tile_stored(2, cbuf[2], 64);
            _tile_stored(3, cbuf[3], 64);
            for (int h = 0; h < 2; h++) {
                if (h == 1 && !two_a) break;
                const int first = (g + h) * 16, nt = tokens - first < 16 ? tokens - first : 16;
                for (int t = 0; t < nt; t++) {
                    i8_epilogue(w, x, first + t, tile, _mm512_load_si512(cbuf[h] + 16 * t), false, bias, y, ldy);
                    if (two_b)
                        i8_epilogue(w, x, first + t, tile + 1, _mm512_load_si512(cbuf[2 + h] + 16 * t), false, bias, y, ldy);
                }
            }
        }
    }
    _tile_release();
    return true;
}
