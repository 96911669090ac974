// Thread-pool synchronisation, per-thread scratch memory and small system queries.
#define _GNU_SOURCE
#include "origami_kernels.h"
#include <immintrin.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#endif

ok_pool_sync *ok_pool_sync_create(void) {
    void *p = NULL;
    if (posix_memalign(&p, 64, sizeof(ok_pool_sync)) != 0) return NULL;
    memset(p, 0, sizeof(ok_pool_sync));
    return (ok_pool_sync *)p;
}

void ok_pool_sync_destroy(ok_pool_sync *s) { free(s); }

uint64_t ok_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void futex_wait(uint32_t *addr, uint32_t expected) {
#ifdef __linux__
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)addr; (void)expected;
    struct timespec t = {0, 50000};
    nanosleep(&t, NULL);
#endif
}

static void futex_wake_all(uint32_t *addr) {
#ifdef __linux__
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

void ok_pool_publish(ok_pool_sync *s, uint32_t count, const void *context) {
    __atomic_store_n(&s->done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->context, context, __ATOMIC_RELAXED);
    // Release: a worker whose claim succeeds sees the context and the reset counter.
    __atomic_store_n(&s->claim, (uint64_t)count << 32, __ATOMIC_RELEASE);
    // Sequentially consistent store then load, mirrored by the sleeper (increment, then re-check in the futex):
    // either the waker sees the sleeper or the sleeper sees the new generation.
    __atomic_fetch_add(&s->generation, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->sleepers, __ATOMIC_SEQ_CST) != 0) futex_wake_all(&s->generation);
}

void ok_pool_wait_done(ok_pool_sync *s, uint64_t count) {
    uint64_t start = 0;
    for (unsigned i = 1; __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) < count; i++) {
        _mm_pause();
        if ((i & 63) != 0) continue;
        // A worker holding a chunk may have been descheduled (two vCPUs shared with other processes): after
        // ~20 µs of spinning, give the CPU away in case that worker is waiting for it.
        const uint64_t now = ok_now_ns();
        if (start == 0) start = now;
        else if (now - start > 20000) sched_yield();
    }
}

uint32_t ok_pool_wait_generation(ok_pool_sync *s, uint32_t seen, uint64_t spin_ns) {
    uint32_t g = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
    if (g != seen) return g;
    uint64_t start = ok_now_ns();
    for (unsigned i = 1;; i++) {
        _mm_pause();
        g = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
        if (g != seen) return g;
        if ((i & 63) == 0 && ok_now_ns() - start > spin_ns) break;
    }
    for (;;) {
        __atomic_fetch_add(&s->sleepers, 1, __ATOMIC_SEQ_CST);
        futex_wait(&s->generation, seen);
        __atomic_fetch_sub(&s->sleepers, 1, __ATOMIC_SEQ_CST);
        g = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
        if (g != seen) return g;
    }
}

void ok_pool_shutdown(ok_pool_sync *s) {
    __atomic_store_n(&s->shutdown, 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&s->generation, 1, __ATOMIC_SEQ_CST);
    futex_wake_all(&s->generation);
}

int ok_active_cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

// MARK: - Scratch

#define SCRATCH_SLOTS 4
typedef struct { void *p[SCRATCH_SLOTS]; size_t cap[SCRATCH_SLOTS]; } scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v) {
    scratch_t *s = (scratch_t *)v;
    for (int i = 0; i < SCRATCH_SLOTS; i++) free(s->p[i]);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *ok_thread_scratch(int slot, size_t bytes) {
    if (slot < 0 || slot >= SCRATCH_SLOTS) return NULL;
    pthread_once(&scratch_once, scratch_init);
    scratch_t *s = (scratch_t *)pthread_getspecific(scratch_key);
    if (!s) {
        s = (scratch_t *)calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->cap[slot] >= bytes && s->p[slot]) return s->p[slot];
    free(s->p[slot]);
    s->p[slot] = NULL;
    s->cap[slot] = 0;
    // Grow geometrically so a sequence of slightly larger requests does not reallocate each time.
    size_t cap = bytes < 4096 ? 4096 : bytes + bytes / 4;
    size_t align = cap >= (2u << 20) ? (2u << 20) : 64;
    cap = (cap + align - 1) / align * align;
    void *p = NULL;
    if (posix_memalign(&p, align, cap) != 0) return NULL;
#ifdef __linux__
    if (cap >= (2u << 20)) madvise(p, cap, MADV_HUGEPAGE);
#endif
    s->p[slot] = p;
    s->cap[slot] = cap;
    return p;
}
