#pragma once
// C shims for OrigamiKernels: the few things Swift cannot express well — intrinsics on bf16 vector types and
// AMX tiles, vectorised transcendental functions, C11-style atomics on plain memory and futex waits. Swift keeps
// the API, the threading and the blocking decisions; these functions are the innermost loops only.
//
// Naming: `ok_` prefix. Matrices are row-major; `ld*` is the distance between rows in elements.
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Thread pool synchronisation

/// Shared state of one thread pool. Fields written by different threads live on different cache lines.
typedef struct ok_pool_sync {
    /// `count << 32 | next`: chunks in the live job and the next one to hand out. Packing both in one word makes
    /// a successful claim prove that the job it belongs to is still running.
    uint64_t claim;
    uint64_t pad0[7];
    /// Chunks of the live job that have finished.
    uint64_t done;
    uint64_t pad1[7];
    /// Bumped once per job; workers sleep on it (futex word).
    uint32_t generation;
    uint32_t sleepers;
    uint32_t shutdown;
    uint32_t busy;
    uint64_t pad2[6];
    /// The live job's body; valid while the job runs.
    const void *context;
    uint64_t pad3[7];
} ok_pool_sync;

ok_pool_sync *ok_pool_sync_create(void);
void ok_pool_sync_destroy(ok_pool_sync *s);

/// Tries to make the calling thread the pool's only publisher; false when a job is already running
/// (a nested or concurrent call, which then runs serially).
static inline bool ok_pool_try_enter(ok_pool_sync *s) {
    uint32_t expected = 0;
    return __atomic_compare_exchange_n(&s->busy, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline void ok_pool_leave(ok_pool_sync *s) { __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE); }

/// Publishes a job of `count` chunks and wakes sleeping workers.
void ok_pool_publish(ok_pool_sync *s, uint32_t count, const void *context);

/// Claims the next chunk of the live job, if any is left.
static inline bool ok_pool_claim(ok_pool_sync *s, int64_t *index) {
    uint64_t w = __atomic_load_n(&s->claim, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t count = w >> 32, next = w & 0xFFFFFFFFu;
        if (next >= count) return false;
        if (__atomic_compare_exchange_n(&s->claim, &w, w + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            *index = (int64_t)next;
            return true;
        }
    }
}

/// The live job's body. Only meaningful after a successful claim (the job cannot end before that chunk does).
static inline const void *ok_pool_context(ok_pool_sync *s) {
    return __atomic_load_n(&s->context, __ATOMIC_RELAXED);
}

static inline void ok_pool_finish_chunk(ok_pool_sync *s) { __atomic_fetch_add(&s->done, 1, __ATOMIC_RELEASE); }

/// Waits (spinning, then yielding) until `count` chunks have finished.
void ok_pool_wait_done(ok_pool_sync *s, uint64_t count);

/// Waits until the generation differs from `seen`: spins for about `spin_ns`, then sleeps on a futex.
/// Returns the new generation.
uint32_t ok_pool_wait_generation(ok_pool_sync *s, uint32_t seen, uint64_t spin_ns);

/// Stops workers: they return from `ok_pool_wait_generation` and see `ok_pool_is_shutdown`.
void ok_pool_shutdown(ok_pool_sync *s);
static inline bool ok_pool_is_shutdown(ok_pool_sync *s) { return __atomic_load_n(&s->shutdown, __ATOMIC_ACQUIRE) != 0; }

/// Cores this process may run on (the affinity mask), at least 1.
int ok_active_cpu_count(void);
/// Monotonic clock in nanoseconds.
uint64_t ok_now_ns(void);

// MARK: - Scratch memory

/// A per-thread, 64-byte aligned scratch buffer of at least `bytes`, grown on demand and kept for the thread's
/// life. `slot` (0..<4) separates buffers that are live at the same time. Returns NULL if allocation fails.
void *ok_thread_scratch(int slot, size_t bytes);

// MARK: - Conversions

void ok_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void ok_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// Round to nearest even, as torch does.
void ok_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
void ok_f32_to_f16(const float *src, uint16_t *dst, size_t n);

// MARK: - Matrix × vector (decode)

/// y[r] = x · W[r, :] (+ bias[r]) for r in [r0, r1), W stored as `dtype` rows of `n` elements, `ldw` apart.
/// dtype: 0 = f32, 1 = f16, 2 = bf16. Accumulates exactly in f32.
void ok_matvec(int dtype, const float *x, const void *w, size_t ldw, size_t n, size_t r0, size_t r1,
               const float *bias, float *y);

/// Up to 4 vectors against the same rows, streaming W once: y[t * ldy + r] = x[t * ldx + :] · W[r, :] (+ bias).
void ok_matvec_multi(int dtype, int tokens, const float *x, size_t ldx, const void *w, size_t ldw, size_t n,
                     size_t r0, size_t r1, const float *bias, float *y, size_t ldy);

// MARK: - Matrix × matrix (prefill)

/// Token block of the packed activations: 32 tokens, two 16-lane vectors.
#define OK_GEMM_TB 32

/// Packs x[tokens, k] (f32, rows `ldx` apart) into `xp` as [ceil(tokens/32)][k][32], zero-padded.
void ok_pack_x_f32(const float *x, size_t ldx, int tokens, size_t k, float *xp);
/// Packs x into bf16 pairs: [ceil(tokens/32)][ceil(k/2)][32][2], zero-padded; rounds to nearest even.
void ok_pack_x_bf16(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xp);

/// One thread's share of y = x · Wᵀ in exact f32: output rows [r0, r1) for all tokens.
/// `xp` from `ok_pack_x_f32`. W is read in place when f32, converted to f32 block by block otherwise.
/// Output written to y[t * ldy + r] (+ bias[r]). Returns false if per-thread scratch could not be allocated.
bool ok_gemm_f32_rows(int dtype, const float *xp, int tokens, size_t k, const void *w, size_t ldw, size_t r0,
                      size_t r1, const float *bias, float *y, size_t ldy);

/// Same with bf16 products and f32 accumulation (`vdpbf16ps`); `xp` from `ok_pack_x_bf16`.
/// bf16 W with even `k` is read in place; other weights are rounded to bf16 block by block.
bool ok_gemm_bf16_rows(int dtype, const uint16_t *xp, int tokens, size_t k, const void *w, size_t ldw, size_t r0,
                       size_t r1, const float *bias, float *y, size_t ldy);

/// Whether AMX bf16 tiles are present and the kernel lets this process use them (asks once).
bool ok_amx_available(void);
/// Packs x for AMX: [ceil(tokens/16)][ceil(k/32)][16 pairs][16 tokens][2] bf16, zero-padded.
void ok_pack_x_amx(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xp);
/// AMX version of `ok_gemm_bf16_rows` (any row range; bf16 weights with k a multiple of 32 are read in place).
/// Returns false if AMX is unavailable or scratch could not be allocated (then nothing was written).
bool ok_gemm_amx_rows(int dtype, const uint16_t *xp, int tokens, size_t k, const void *w, size_t ldw, size_t r0,
                      size_t r1, const float *bias, float *y, size_t ldy);

// MARK: - Quantized weights: int8 rows (absmax or zero point)
//
// Packed layout shared by every int8 kernel: rows in tiles of 16, k padded to a multiple of 64. A tile is
// `quads` = kpad / 4 consecutive 64-byte lines; line q holds columns 4q...4q+3 of the tile's 16 rows, row j at
// bytes 4j...4j+3. That is the VNNI layout: one line is a `vpdpbusd` operand (lane j = row j) against four
// activations broadcast, and 16 lines (1 KiB) are an AMX B tile for k = 64, so decode and prefill read the same
// single sequential stream per tile.

/// Rows per tile of the packed quantized layouts (int8 and 4-bit).
#define OK_Q_TILE 16

/// Copies codes[rows, cols] (row-major bytes, Int8 or UInt8) into tiles [t0, t1) of the packed layout at `dst`
/// (ceil(rows/16) tiles × kpad/4 lines × 64 bytes, kpad ≥ cols a multiple of 64); padding bytes are `pad`.
/// With `row_sums`, also writes Σ_c codes[r, c] as signed bytes for the tiles' rows.
void ok_i8_repack(const uint8_t *codes, size_t rows, size_t cols, size_t kpad, uint8_t pad, size_t t0, size_t t1,
                  uint8_t *dst, int32_t *row_sums);

/// Marks the columns c < k in which some token has |x| ≥ threshold (after rounding x to f16 when `through_half`);
/// writes their indices ascending to `cols` and returns how many.
size_t ok_i8_outlier_columns(const float *x, size_t ldx, int tokens, size_t k, bool through_half, float threshold,
                             int32_t *cols);

/// Quantizes each token's row as LLM.int8() does: optionally rounds x to f16; absmax over |x| with values
/// ≥ threshold left out (pass +inf for none); q = round-half-even(x · (127 / absmax)); then zeroes the listed
/// columns. Writes q to xq[t * ldq + c] (zeros from k to ldq ≥ k), absmax[t], and Σ_c q in sums[t] when non-NULL.
/// An all-zero row gets absmax 0 and zero codes.
void ok_i8_quantize_rows(const float *x, size_t ldx, int tokens, size_t k, bool through_half, float threshold,
                         const int32_t *zero_cols, size_t nzero, int8_t *xq, size_t ldq, float *absmax, int32_t *sums);

/// A packed int8 matrix and how its integer sums become floats.
typedef struct {
    const uint8_t *codes;   ///< packed tiles (see above)
    size_t quads;           ///< lines per tile (kpad / 4)
    size_t rows;            ///< real output rows (the last tile may be partial)
    bool zero_point;        ///< UInt8 codes with w = (q − zero)·scale; otherwise Int8 codes with w = q·absmax/127
    const float *scale;     ///< [tiles·16] row absmax (symmetric) or scale (zero point)
    const int32_t *row_sum; ///< symmetric: Σ_c q per row (for the +128 activation offset of vpdpbusd)
    const int32_t *zero_int;///< zero point: rint(zero)
    const float *zero_frac; ///< zero point: zero − rint(zero)
    float rescale;          ///< multiplies acc · absmax_x · scale: 1/127² (symmetric) or 1/127 (zero point)
} ok_i8_matrix;

/// Token rows quantized by `ok_i8_quantize_rows`: q[t * ld + c], padded to whole 16-token tiles with zero rows.
typedef struct {
    const int8_t *q;
    size_t ld;              ///< kpad of the matrix
    const float *absmax;    ///< [tokens]
    const int32_t *sum;     ///< [tokens] Σ_c q (zero point matrices only)
} ok_i8_acts;

/// y[t * ldy + r] = rescaled Σ_c x_q[t, c] · W_q[r, c] (+ bias[r]) for the rows of tiles [t0, t1), with AVX-512
/// VNNI (`vpdpbusd`); tokens are taken 4 at a time against each tile (which stays in L2 between them).
void ok_i8_vnni_tiles(const ok_i8_matrix *w, const ok_i8_acts *x, int tokens, size_t t0, size_t t1,
                      const float *bias, float *y, size_t ldy);

/// Whether AMX int8 tiles are present and usable by this process.
bool ok_amx_int8_available(void);
/// The same product on AMX tiles (`tdpbssd`, or `tdpbsud` for zero-point codes); `x` must be padded to whole 16-token
/// tiles. Returns false (computing nothing) when AMX int8 is unavailable.
bool ok_i8_amx_tiles(const ok_i8_matrix *w, const ok_i8_acts *x, int tokens, size_t t0, size_t t1,
                     const float *bias, float *y, size_t ldy);

/// Exact f32 activations × dequantized weights, w = q·absmax·(1/127) (bitsandbytes' dequantization) or
/// (q − zero)·scale: y[t * ldy + r] = Σ_c x[t * ldx + c] · w[r, c] (+ bias[r]) for the rows of tiles [t0, t1).
void ok_i8_dequant_tiles(const ok_i8_matrix *w, const float *x, size_t ldx, int tokens, size_t k, size_t t0,
                         size_t t1, const float *bias, float *y, size_t ldy);

/// LLM.int8()'s float part: y[t * ldy + r] += Σ_{c ∈ cols} x[t * ldx + c] · w[r, c] with w dequantized as in
/// `ok_i8_dequant_tiles`, for the rows of tiles [t0, t1). Needs per-thread scratch; false if it cannot be allocated.
bool ok_i8_outlier_tiles(const ok_i8_matrix *w, const float *x, size_t ldx, int tokens, const int32_t *cols,
                         size_t ncols, size_t t0, size_t t1, float *y, size_t ldy);

// MARK: - Quantized weights: 4-bit code book (NF4, FP4) with blockwise absmax
//
// Packed layout: rows in tiles of 16; each tile is a sequence of column groups of `group` columns (a multiple of
// 32 dividing the row length and the quantization block), each group one 64-byte line of 16 f32 scales (the
// absmax of the block the group lies in, per row) followed by group/8 lines of codes. Code line l of a group holds
// 8 columns of the 16 rows, row j in the 32-bit word j: its low half has the codes of columns 8l, 8l+2, 8l+4, 8l+6
// (4 bits each, from bit 0 up), its high half those of 8l+1, 8l+3, 8l+5, 8l+7. Shifting a line right by 4p bits
// puts column 8l+2p in bits 0-3 of every dword (a `vpermps` index into the code book) and, read as 16-bit words,
// the pair (8l+2p, 8l+2p+1) in bits 0-3 of each word (a `vpermw` index), which is the pair order of an AMX B tile.

/// Bytes of one 16-row tile of the 4-bit layout.
size_t ok_q4_tile_bytes(size_t cols, size_t group);

/// Repacks bitsandbytes 4-bit codes (the [rows, cols] matrix flattened row-major, two codes per byte, the first in
/// the high nibble; `absmax` one float per `block` consecutive elements) into the packed layout at `dst`, tiles
/// [t0, t1). Requires cols % group == 0 and block % group == 0, so a group never straddles a block.
void ok_q4_repack(const uint8_t *codes, const float *absmax, size_t rows, size_t cols, size_t block, size_t group,
                  size_t t0, size_t t1, uint8_t *dst);

/// y[t * ldy + r] = Σ_c x[t * ldx + c] · codebook[q[r, c]] · scale[r, group(c)] (+ bias[r]) for the rows of tiles
/// [t0, t1), exact f32 (FMA), tokens 4 at a time against each tile.
void ok_q4_f32_tiles(const uint8_t *w, size_t cols, size_t group, size_t rows, const float *codebook,
                     const float *x, size_t ldx, int tokens, size_t t0, size_t t1, const float *bias, float *y,
                     size_t ldy);

/// Converts x[tokens, k] to bf16 rows (round to nearest even) at xb[t * k + c], zero rows up to a whole 16 tokens.
void ok_q4_pack_x_bf16(const float *x, size_t ldx, int tokens, size_t k, uint16_t *xb);

/// bf16 products on AMX tiles, f32 sums: each pair of row tiles is dequantized (code · scale, rounded to bf16) into
/// per-thread scratch in B-tile order, then multiplied with every token tile of `xb` (from `ok_q4_pack_x_bf16`).
/// Returns false (computing nothing) if AMX bf16 is unavailable or scratch cannot be allocated.
bool ok_q4_amx_tiles(const uint8_t *w, size_t cols, size_t group, size_t rows, const float *codebook,
                     const uint16_t *xb, int tokens, size_t t0, size_t t1, const float *bias, float *y, size_t ldy);

/// Dequantizes rows [r0, r1) of bitsandbytes-layout 4-bit codes (see `ok_q4_repack`) to f32 rows dst[(r − r0) * cols + c].
void ok_q4_dequant_flat(const uint8_t *codes, const float *absmax, const float *codebook, size_t cols, size_t block,
                        size_t r0, size_t r1, float *dst);

// MARK: - Row kernels (f32)

float ok_dot(const float *a, const float *b, size_t n);
float ok_sum_squares(const float *a, size_t n);
/// y += alpha * x
void ok_axpy(float alpha, const float *x, float *y, size_t n);
void ok_scale(const float *x, float alpha, size_t n, float *out);
void ok_add(const float *a, const float *b, float *out, size_t n);
void ok_mul(const float *a, const float *b, float *out, size_t n);

void ok_rmsnorm(const float *x, const float *weight, float eps, size_t n, float *out);
void ok_layernorm(const float *x, const float *weight, const float *bias, float eps, size_t n, float *out);

/// out = softmax(x * scale) over n elements; returns the row maximum of x * scale. With `has_max`, `known_max`
/// is used as that maximum instead of scanning for it (it must be ≥ every x * scale, or exp may overflow).
float ok_softmax(const float *x, size_t n, float scale, bool has_max, float known_max, float *out);
/// out[i] = exp(x[i] - m); returns the sum (for online softmax in attention).
float ok_exp_shifted_sum(const float *x, size_t n, float m, float *out);

/// out = silu(gate) * up
void ok_silu_mul(const float *gate, const float *up, float *out, size_t n);
void ok_silu(const float *x, float *out, size_t n);
void ok_gelu_erf(const float *x, float *out, size_t n);
void ok_gelu_tanh(const float *x, float *out, size_t n);
void ok_relu(const float *x, float *out, size_t n);

/// Rotary embedding of one head vector in place. `half` = rotary dim / 2; cos/sin tables have `half` entries.
/// neox: pairs (i, i + half); otherwise GPT-J pairs (2i, 2i + 1).
void ok_rope(float *x, const float *cos_table, const float *sin_table, size_t half, bool neox);
/// The same rotation for `heads` head vectors `stride` elements apart (one token's heads, one position).
void ok_rope_heads(float *x, size_t heads, size_t stride, const float *cos_table, const float *sin_table, size_t half,
                   bool neox);

// MARK: - Bandwidth

/// Reads `bytes` (a multiple of 256) from a 64-byte aligned buffer; returns a value that depends on every byte
/// so the read cannot be optimised away.
float ok_stream_read(const void *p, size_t bytes);
/// The same with software prefetch far ahead into L2 and near into L1 (as the quantized decode kernels do).
float ok_stream_read_prefetched(const void *p, size_t bytes);

#ifdef __cplusplus
}
#endif
