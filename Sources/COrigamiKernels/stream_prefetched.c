// A streaming read with the two-level software prefetch the quantized decode kernels use: on this machine class it
// reads ~5% faster than the plain loop of ok_stream_read, so it is the stricter roof to compare them with.
#include "origami_kernels.h"
#include "internal.h"

float ok_stream_read_prefetched(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        for (int j = 0; j < 4; j++) {
            _mm_prefetch(c + i + 64 * j + 32768, _MM_HINT_T2);
            _mm_prefetch(c + i + 64 * j + 4096, _MM_HINT_T0);
        }
        s0 = _mm512_add_ps(s0, _mm512_load_ps(c + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(c + i + 64));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(c + i + 128));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(c + i + 192));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
