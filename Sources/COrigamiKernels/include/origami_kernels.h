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

#ifdef __cplusplus
}
#endif
