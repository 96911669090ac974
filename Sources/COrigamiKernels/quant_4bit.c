// 4-bit code-book weights (bitsandbytes NF4/FP4): 16 floats, one absmax per block of the flattened weight.
//
// The bitsandbytes layout is row-major nibbles with one absmax per block, which streams at ~57% of the bandwidth
// (PERFORMANCE.md): every 32 weights need a scale lookup and a horizontal sum per row. Repacked into 16-row tiles
// (layout in origami_kernels.h) a 64-byte line is 16 rows × 8 columns, so decoding a column is one shift and one
// `vpermps` into the code book for 16 rows at once, the scale is applied once per group and row, and each thread
// reads one sequential stream.
#include "origami_kernels.h"
#include "internal.h"
#include <string.h>

/// Decode prefetches every line twice: far ahead into L2 and again, closer, into L1. The hardware prefetchers of
/// this machine class follow a stream consumed this slowly (~15 cycles a line) poorly: without software prefetch
/// decode reaches ~42% of the read bandwidth, with one distance ≤ 80%, with both ~90% (measured 1 KiB-128 KiB).
#define Q4_PF_FAR 65536
#define Q4_PF_NEAR 4096

size_t ok_q4_tile_bytes(size_t cols, size_t group) { return cols / group * (64 + group * 8); }

/// Code of flat element i (bitsandbytes: the first of each pair in the high nibble).
OK_INLINE unsigned flat_code(const uint8_t *codes, size_t i) {
    const uint8_t b = codes[i >> 1];
    return (i & 1) ? (b & 15u) : (b >> 4);
}

/// Spreads the low nibbles of a word's 4 bytes into 16 bits: bytes [a, b, c, d] → a | b << 4 | c << 8 | d << 12.
OK_INLINE uint32_t squeeze_nibbles(uint32_t v) {
    v &= 0x0F0F0F0Fu;
    v = (v | (v >> 4)) & 0x00FF00FFu;
    return (v | (v >> 8)) & 0x0000FFFFu;
}

void ok_q4_repack(const uint8_t *codes, const float *absmax, size_t rows, size_t cols, size_t block, size_t group,
                  size_t t0, size_t t1, uint8_t *dst) {
    const size_t groups = cols / group, lines = group / 8, tile_bytes = ok_q4_tile_bytes(cols, group);
    for (size_t t = t0; t < t1; t++) {
        uint8_t *tile = dst + t * tile_bytes;
        for (size_t g = 0; g < groups; g++) {
            uint8_t *gp = tile + g * (64 + group * 8);
            float *scale = (float *)gp;
            uint32_t *code_lines = (uint32_t *)(gp + 64);
            for (size_t j = 0; j < OK_Q_TILE; j++) {
                const size_t r = t * OK_Q_TILE + j;
                if (r >= rows) {
                    scale[j] = 0;
                    for (size_t l = 0; l < lines; l++) code_lines[l * 16 + j] = 0;
                    continue;
                }
                const size_t first = r * cols + g * group;   // even: cols and group are multiples of 32
                scale[j] = absmax[first / block];
                for (size_t l = 0; l < lines; l++) {
                    // 8 codes = 4 bytes: byte i has column 2i in its high nibble and 2i+1 in its low one.
                    uint32_t u;
                    memcpy(&u, codes + (first + 8 * l) / 2, 4);
                    code_lines[l * 16 + j] = squeeze_nibbles(u >> 4) | squeeze_nibbles(u) << 16;
                }
            }
        }
    }
}

/// The codes of column pair p (0-3) of a line as `vpermps` indices: even column (word 0), odd column (word 1).
OK_INLINE __m512i even_index(__m512i line, int p) { return p ? _mm512_srli_epi32(line, 4 * p) : line; }
OK_INLINE __m512i odd_index(__m512i line, int p) { return _mm512_srli_epi32(line, 16 + 4 * p); }

OK_INLINE void q4_prefetch(const uint8_t *p) {
    _mm_prefetch((const char *)p + Q4_PF_FAR, _MM_HINT_T2);
    _mm_prefetch((const char *)p + Q4_PF_NEAR, _MM_HINT_T0);
}

/// `T` tokens against `NT` consecutive tiles (literals). `C` partial-sum chains per token and tile (4 for one token,
/// where the line's 8 FMAs would otherwise wait on each other's latency). Two tiles at once for one token share
/// each broadcast activation between them: measured ~5 points nearer the read roof than one (four spill registers).
OK_INLINE void q4_f32_impl(int T, int C, int NT, const uint8_t *w, size_t cols, size_t group, size_t rows, __m512 cb,
                           const float *x, size_t ldx, size_t tile, const float *bias, float *y, size_t ldy) {
    const size_t groups = cols / group, lines = group / 8, tile_bytes = ok_q4_tile_bytes(cols, group);
    const uint8_t *p = w + tile * tile_bytes;
    __m512 tot[2][4];
    for (int a = 0; a < NT; a++)
        for (int t = 0; t < T; t++) tot[a][t] = _mm512_setzero_ps();
    for (size_t g = 0; g < groups; g++, p += 64 + group * 8) {
        __m512 part[2][4][4];
        for (int a = 0; a < NT; a++)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < C; c++) part[a][t][c] = _mm512_setzero_ps();
        const float *xg = x + g * group;
        for (int a = 0; a < NT; a++) q4_prefetch(p + a * tile_bytes);
        for (size_t l = 0; l < lines; l++) {
            __m512i line[2];
            for (int a = 0; a < NT; a++) {
                const uint8_t *lp = p + a * tile_bytes + 64 + 64 * l;
                q4_prefetch(lp);
                line[a] = _mm512_load_si512(lp);
            }
            const float *xl = xg + 8 * l;
            for (int q = 0; q < 4; q++) {
                // Column 8l + 2q: low half of each dword, nibble q; column 8l + 2q + 1: high half, nibble q.
                for (int a = 0; a < NT; a++) {
                    const __m512 we = _mm512_permutexvar_ps(even_index(line[a], q), cb);
                    const __m512 wo = _mm512_permutexvar_ps(odd_index(line[a], q), cb);
                    for (int t = 0; t < T; t++) {
                        const float *xt = xl + (size_t)t * ldx;
                        __m512 *acc = &part[a][t][(2 * q) % C];
                        *acc = _mm512_fmadd_ps(we, _mm512_set1_ps(xt[2 * q]), *acc);
                        acc = &part[a][t][(2 * q + 1) % C];
                        *acc = _mm512_fmadd_ps(wo, _mm512_set1_ps(xt[2 * q + 1]), *acc);
                    }
                }
            }
        }
        for (int a = 0; a < NT; a++) {
            const __m512 s = _mm512_load_ps((const float *)(p + a * tile_bytes));
            for (int t = 0; t < T; t++) {
                __m512 sum = part[a][t][0];
                for (int c = 1; c < C; c++) sum = _mm512_add_ps(sum, part[a][t][c]);
                tot[a][t] = _mm512_fmadd_ps(sum, s, tot[a][t]);
            }
        }
    }
    for (int a = 0; a < NT; a++) {
        const size_t r0 = (tile + a) * OK_Q_TILE, nr = rows - r0 < OK_Q_TILE ? rows - r0 : OK_Q_TILE;
        const __mmask16 m = ok_mask16(nr);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + r0) : _mm512_setzero_ps();
        for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + (size_t)t * ldy + r0, m, _mm512_add_ps(tot[a][t], b));
    }
}

#define Q4_F32(name, T, C, NT)                                                                                          \
    __attribute__((noinline)) static void name(const uint8_t *w, size_t cols, size_t group, size_t rows, __m512 cb,   \
                                               const float *x, size_t ldx, size_t tile, const float *bias, float *y,  \
                                               size_t ldy) {                                                          \
        q4_f32_impl(T, C, NT, w, cols, group, rows, cb, x, ldx, tile, bias, y, ldy);                                   \
    }
Q4_F32(q4_f32_1x2, 1, 4, 2)
Q4_F32(q4_f32_1, 1, 4, 1)
Q4_F32(q4_f32_2, 2, 4, 1)
Q4_F32(q4_f32_3, 3, 2, 1)
Q4_F32(q4_f32_4, 4, 2, 1)
#undef Q4_F32

void ok_q4_f32_tiles(const uint8_t *w, size_t cols, size_t group, size_t rows, const float *codebook,
                     const float *x, size_t ldx, int tokens, size_t t0, size_t t1, const float *bias, float *y,
                     size_t ldy) {
    const __m512 cb = _mm512_loadu_ps(codebook);
    if (tokens == 1) {
        size_t tile = t0;
        for (; tile + 2 <= t1; tile += 2) q4_f32_1x2(w, cols, group, rows, cb, x, ldx, tile, bias, y, ldy);
        if (tile < t1) q4_f32_1(w, cols, group, rows, cb, x, ldx, tile, bias, y, ldy);
        return;
    }
    for (size_t tile = t0; tile < t1; tile++)
        for (int t = 0; t < tokens; t += 4) {
            const float *xt = x + (size_t)t * ldx;
            float *yt = y + (size_t)t * ldy;
            switch (tokens - t) {
            case 1: q4_f32_1(w, cols, group, rows, cb, xt, ldx, tile, bias, yt, ldy); break;
            case 2: q4_f32_2(w, cols, group, rows, cb, xt, ldx, tile, bias, yt, ldy); break;
            case 3: q4_f32_3(w, cols, group, rows, cb, xt, ldx, tile, bias, yt, ldy); break;
            default: q4_f32_4(w, cols, group, rows, cb, xt, ldx, tile, bias, yt, ldy); break;
            }
        }
}

void ok_q4_dequant_flat(const uint8_t *codes, const float *absmax, const float *codebook, size_t cols, size_t block,
                        size_t r0, size_t r1, float *dst) {
    for (size_t r = r0; r < r1; r++)
        for (size_t c = 0; c < cols; c++) {
            const size_t i = r * cols + c;
            dst[(r - r0) * cols + c] = codebook[flat_code(codes, i)] * absmax[i / block];
        }
}

void ok_q4_pack_x_bf16(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xb) {
    const int padded = (tokens + 15) / 16 * 16;
    for (int t = 0; t < padded; t++) {
        uint16_t *d = xb + (size_t)t * k;
        if (t >= tokens) {
            memset(d, 0, k * 2);
            continue;
        }
        ok_f32_to_bf16(x + (size_t)t * ldx, d, k);
    }
}

// MARK: - AMX bf16

#define AMX_BF16 __attribute__((target("amx-tile,amx-bf16")))

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} q4_tile_config;

/// Dequantizes code line `l` of group `g` of a tile into its 4 pair rows of the bf16 B tiles at `dst` (the tile's
/// chunk s = columns 32s...32s+31 at dst + s * 512, as [16 pairs][16 rows][2]): code · scale, rounded to bf16.
OK_INLINE void q4_line_to_bf16(const uint8_t *tile, size_t group, size_t g, size_t l, __m512 cb, __m512i interleave,
                               uint16_t *dst) {
    const uint8_t *gp = tile + g * (64 + group * 8);
    const __m512 s = _mm512_load_ps((const float *)gp);
    const uint8_t *lp = gp + 64 + 64 * l;
    q4_prefetch(lp);
    const __m512i line = _mm512_load_si512(lp);
    uint16_t *d = dst + (g * group / 8 + l) * 128;   // 8 columns = 4 pair rows of 32 words
    for (int q = 0; q < 4; q++) {
        const __m512 we = _mm512_mul_ps(_mm512_permutexvar_ps(even_index(line, q), cb), s);
        const __m512 wo = _mm512_mul_ps(_mm512_permutexvar_ps(odd_index(line, q), cb), s);
        _mm512_store_si512(d + 32 * q, _mm512_permutexvar_epi16(interleave, ok_f32x32_to_bf16(we, wo)));
    }
}

static const uint16_t q4_pair_order[32] __attribute__((aligned(64))) = {
    0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

/// A position in the dequantization of a tile pair, advanced a few lines at a time between AMX steps.
typedef struct {
    const uint8_t *tiles[2];   ///< the pair's packed tiles (second NULL for a single tile)
    uint16_t *dst[2];          ///< their bf16 B tiles
    size_t tile, g, l;         ///< next line: tile (0-1), group, line in group
} q4_dequant_cursor;

/// Dequantizes up to `n` more lines; returns false once the pair is done.
__attribute__((noinline)) static bool q4_dequant_some(q4_dequant_cursor *c, size_t n, size_t cols, size_t group,
                                                      __m512 cb) {
    const __m512i interleave = _mm512_load_si512(q4_pair_order);
    const size_t groups = cols / group, lines = group / 8;
    for (size_t i = 0; i < n; i++) {
        if (c->tile == 2 || !c->tiles[c->tile]) return false;
        q4_line_to_bf16(c->tiles[c->tile], group, c->g, c->l, cb, interleave, c->dst[c->tile]);
        if (++c->l == lines) {
            c->l = 0;
            if (++c->g == groups) {
                c->g = 0;
                c->tile++;
            }
        }
    }
    return c->tile < 2 && c->tiles[c->tile];
}

/// Dequantizes one whole tile (used by the asm checks' reference build and for the first pair of a range).
__attribute__((noinline)) static void q4_tile_to_bf16(const uint8_t *tile, size_t cols, size_t group, __m512 cb,
                                                      uint16_t *dst) {
    const __m512i interleave = _mm512_load_si512(q4_pair_order);
    for (size_t g = 0; g < cols / group; g++)
        for (size_t l = 0; l < group / 8; l++) q4_line_to_bf16(tile, group, g, l, cb, interleave, dst);
}

/// Adds bias and writes c[16 tokens][16 rows] to y for tokens < nt and rows < nr.
static void q4_store_tile(const float *c, size_t nt, size_t nr, const float *bias, float *y, size_t ldy) {
    const __mmask16 m = ok_mask16(nr);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias) : _mm512_setzero_ps();
    for (size_t t = 0; t < nt; t++) _mm512_mask_storeu_ps(y + t * ldy, m, _mm512_add_ps(_mm512_load_ps(c + 16 * t), b));
}

AMX_BF16 bool ok_q4_amx_tiles(const uint8_t *w, size_t cols, size_t group, size_t rows, const float *codebook,
                              const uint16_t *xb, int tokens, size_t t0, size_t t1, const float *bias, float *y,
                              size_t ldy) {
    if (!ok_amx_available()) return false;
    if (t1 <= t0 || tokens <= 0) return true;
    const size_t steps = cols / 32, tile_bytes = ok_q4_tile_bytes(cols, group), pair_words = 2 * steps * 512;
    // Two sets of a tile pair's B tiles: the AMX steps read one while the next pair is dequantized into the other,
    // a few lines between steps, so the vector work and its memory stream hide behind the tile multiplies.
    uint16_t *bbuf = (uint16_t *)ok_thread_scratch(0, 2 * pair_words * 2);
    if (!bbuf) return false;
    const __m512 cb = _mm512_loadu_ps(codebook);
    q4_tile_config cfg = {0};
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) {
        cfg.colsb[i] = 64;
        cfg.rows[i] = 16;
    }
    _tile_loadconfig(&cfg);
    float cbuf[4][256] __attribute__((aligned(64)));
    const int groups = (tokens + 15) / 16;
    const size_t lda = cols * 2;
    const size_t total_steps = (size_t)((groups + 1) / 2) * steps, pair_lines = 2 * cols / 8;
    const size_t lines_per_step = (pair_lines + total_steps - 1) / total_steps;

    q4_tile_to_bf16(w + t0 * tile_bytes, cols, group, cb, bbuf);
    if (t0 + 1 < t1) q4_tile_to_bf16(w + (t0 + 1) * tile_bytes, cols, group, cb, bbuf + steps * 512);
    int set = 0;
    for (size_t tile = t0; tile < t1; tile += 2, set ^= 1) {
        const bool two_b = tile + 1 < t1;
        const uint16_t *b0 = bbuf + (size_t)set * pair_words, *b1 = b0 + steps * 512;
        q4_dequant_cursor next = {{NULL, NULL}, {NULL, NULL}, 0, 0, 0};
        if (tile + 2 < t1) {
            uint16_t *nb = bbuf + (size_t)(set ^ 1) * pair_words;
            next.tiles[0] = w + (tile + 2) * tile_bytes;
            next.tiles[1] = tile + 3 < t1 ? w + (tile + 3) * tile_bytes : NULL;
            next.dst[0] = nb;
            next.dst[1] = nb + steps * 512;
        }
        bool pending = next.tiles[0] != NULL;
        for (int g = 0; g < groups; g += 2) {
            const bool two_a = g + 1 < groups;
            const uint16_t *a0 = xb + (size_t)g * 16 * cols, *a1 = a0 + 16 * cols;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (size_t s = 0; s < steps; s++) {
                _tile_loadd(6, b0 + s * 512, 64);
                _tile_loadd(4, a0 + s * 32, lda);
                _tile_dpbf16ps(0, 4, 6);
                if (two_b) {
                    _tile_loadd(7, b1 + s * 512, 64);
                    _tile_dpbf16ps(2, 4, 7);
                }
                if (two_a) {
                    _tile_loadd(5, a1 + s * 32, lda);
                    _tile_dpbf16ps(1, 5, 6);
                    if (two_b) _tile_dpbf16ps(3, 5, 7);
                }
                if (pending) pending = q4_dequant_some(&next, lines_per_step, cols, group, cb);
            }
            _tile_stored(0, cbuf[0], 64);
            _tile_stored(1, cbuf[1], 64);
            _tile_stored(2, cbuf[2], 64);
            _tile_stored(3, cbuf[3], 64);
            const size_t r0 = tile * OK_Q_TILE;
            const size_t nr0 = rows - r0 < 16 ? rows - r0 : 16;
            const size_t nr1 = two_b ? (rows - r0 - 16 < 16 ? rows - r0 - 16 : 16) : 0;
            for (int h = 0; h < 2; h++) {
                if (h == 1 && !two_a) break;
                const size_t first = (size_t)(g + h) * 16;
                const size_t nt = (size_t)tokens - first < 16 ? (size_t)tokens - first : 16;
                float *yb = y + first * ldy + r0;
                q4_store_tile(cbuf[h], nt, nr0, bias ? bias + r0 : NULL, yb, ldy);
                if (nr1) q4_store_tile(cbuf[2 + h], nt, nr1, bias ? bias + r0 + 16 : NULL, yb + 16, ldy);
            }
        }
        // Whatever the steps left undone (rounding of lines per step) before the next pair starts.
        while (pending) pending = q4_dequant_some(&next, pair_lines, cols, group, cb);
    }
    _tile_release();
    return true;
}
