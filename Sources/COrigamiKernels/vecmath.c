// Row kernels in f32: reductions, norms, softmax, activations and rotary embeddings. Transcendental functions are
// evaluated 16 lanes at a time with polynomials here (libm would be one call per element).
#include "origami_kernels.h"
#include "internal.h"

/// Full-vector mask for the chunk at i, or the tail mask for the last partial one.
OK_INLINE __mmask16 chunk_mask(size_t i, size_t n) { return n - i >= 16 ? (__mmask16)0xFFFF : ok_mask16(n - i); }

OK_INLINE float scalar_sqrt(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }

/// e^x, relative error ~2 ulp. Reduction x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so n·ln2_hi is exact),
/// degree-7 Taylor polynomial for e^r, then scalef multiplies by 2^n with correct overflow/underflow.
OK_INLINE __m512 v_exp(__m512 x) {
    // max/min return their second operand when one is NaN: x goes second so NaN survives.
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/// x / (1 + e^-x), exact division so it matches torch closely over the whole range.
OK_INLINE __m512 v_silu(__m512 x) {
    const __m512 e = v_exp(_mm512_sub_ps(_mm512_setzero_ps(), x));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

/// 1 + erf(z) for all z, relative error ~5e-7. erfc(a) = t·exp(-a² + P(t)) with t = 1/(1 + a/2), a = |z|, where P
/// is a degree-11 least-squares fit (made for Origami with scipy's erfcx) of log(erfc(a)·e^{a²}/t) on t ∈ (0, 1].
/// a² is split into hi + lo with an FMA so large a keeps its accuracy.
OK_INLINE __m512 v_one_plus_erf(__m512 z) {
    // erfc(10) ≈ 2e-45 is already below f32; clamping keeps a² finite for infinite inputs. NaN passes through.
    const __m512 a = _mm512_min_ps(_mm512_set1_ps(10.0f), _mm512_abs_ps(z));
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(-1.731694341e-01f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(9.594528675e-01f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-2.126078844e+00f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(2.287488461e+00f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.127517581e+00f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(2.797062397e-01f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-2.130310535e-01f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-7.957883179e-02f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(8.326832950e-02f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(3.749703467e-01f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.000001431e+00f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.265512109e+00f));
    const __m512 hi = _mm512_mul_ps(a, a);
    const __m512 lo = _mm512_fmsub_ps(a, a, hi);
    const __m512 erfc = _mm512_mul_ps(t, v_exp(_mm512_sub_ps(_mm512_sub_ps(p, hi), lo)));
    // z ≥ 0: 1 + erf(z) = 2 - erfc(z); z < 0: 1 + erf(z) = erfc(-z).
    const __mmask16 neg = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc), erfc);
}

/// 0.5·x·(1 + erf(x/√2))
OK_INLINE __m512 v_gelu_erf(__m512 x) {
    const __m512 h = v_one_plus_erf(_mm512_mul_ps(x, _mm512_set1_ps(0.707106781186547524f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), h);
}

/// 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), computed as x·sigmoid(2u) = x / (1 + e^{-2u}), which is
/// the same function without tanh's cancellation near zero.
OK_INLINE __m512 v_gelu_tanh(__m512 x) {
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.797884560802865356f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    const __m512 e = v_exp(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

float ok_dot(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float ok_sum_squares(const float *a, size_t n) { return ok_dot(a, a, n); }

void ok_axpy(float alpha, const float *x, float *y, size_t n) {
    const __m512 av = _mm512_set1_ps(alpha);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

void ok_scale(const float *x, float alpha, size_t n, float *out) {
    const __m512 av = _mm512_set1_ps(alpha);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, x + i)));
    }
}

void ok_add(const float *a, const float *b, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

void ok_mul(const float *a, const float *b, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

void ok_rmsnorm(const float *x, const float *weight, float eps, size_t n, float *out) {
    const float inv = 1.0f / scalar_sqrt(ok_sum_squares(x, n) / (float)n + eps);
    const __m512 iv = _mm512_set1_ps(inv);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), iv);
        if (weight) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, weight + i));
        _mm512_mask_storeu_ps(out + i, m, v);
    }
}

void ok_layernorm(const float *x, const float *weight, const float *bias, float eps, size_t n, float *out) {
    __m512 s = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(chunk_mask(i, n), x + i));
    const float mean = _mm512_reduce_add_ps(s) / (float)n;
    const __m512 mv = _mm512_set1_ps(mean);
    __m512 q = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), mv);
        q = _mm512_fmadd_ps(d, d, q);
    }
    const float rstd = 1.0f / scalar_sqrt(_mm512_reduce_add_ps(q) / (float)n + eps);
    const __m512 rv = _mm512_set1_ps(rstd);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mv), rv);
        if (weight) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, weight + i));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + i));
        _mm512_mask_storeu_ps(out + i, m, v);
    }
}

float ok_exp_shifted_sum(const float *x, size_t n, float mx, float *out) {
    const __m512 mv = _mm512_set1_ps(mx);
    __m512 s = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        const __m512 e = _mm512_maskz_mov_ps(m, v_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mv)));
        _mm512_mask_storeu_ps(out + i, m, e);
        s = _mm512_add_ps(s, e);
    }
    return _mm512_reduce_add_ps(s);
}

float ok_softmax(const float *x, size_t n, float scale, bool has_max, float known_max, float *out) {
    if (n == 0) return -__builtin_inff();
    const __m512 sv = _mm512_set1_ps(scale);
    float m = known_max;
    if (!has_max) {
        __m512 mx = _mm512_set1_ps(-__builtin_inff());
        for (size_t i = 0; i < n; i += 16) {
            const __mmask16 k = chunk_mask(i, n);
            mx = _mm512_mask_max_ps(mx, k, mx, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), sv));
        }
        m = _mm512_reduce_max_ps(mx);
    }
    if (m == -__builtin_inff()) {
        // Every position masked out: no distribution exists; zeros keep attention outputs finite.
        for (size_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(out + i, chunk_mask(i, n), _mm512_setzero_ps());
        return m;
    }
    const __m512 mv = _mm512_set1_ps(m);
    __m512 s = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 k = chunk_mask(i, n);
        const __m512 e = _mm512_maskz_mov_ps(k, v_exp(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, x + i), sv, mv)));
        _mm512_mask_storeu_ps(out + i, k, e);
        s = _mm512_add_ps(s, e);
    }
    ok_scale(out, 1.0f / _mm512_reduce_add_ps(s), n, out);
    return m;
}

void ok_silu_mul(const float *gate, const float *up, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        const __m512 g = v_silu(_mm512_maskz_loadu_ps(m, gate + i));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(g, _mm512_maskz_loadu_ps(m, up + i)));
    }
}

void ok_silu(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, v_silu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void ok_gelu_erf(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, v_gelu_erf(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void ok_gelu_tanh(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        _mm512_mask_storeu_ps(out + i, m, v_gelu_tanh(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void ok_relu(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        // max(x, 0) with x second keeps NaN, as torch.relu does.
        _mm512_mask_storeu_ps(out + i, m, _mm512_max_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(m, x + i)));
    }
}

void ok_rope(float *x, const float *cos_table, const float *sin_table, size_t half, bool neox) {
    if (neox) {
        float *x1 = x + half;
        for (size_t i = 0; i < half; i += 16) {
            const __mmask16 m = chunk_mask(i, half);
            const __m512 a = _mm512_maskz_loadu_ps(m, x + i), b = _mm512_maskz_loadu_ps(m, x1 + i);
            const __m512 c = _mm512_maskz_loadu_ps(m, cos_table + i), s = _mm512_maskz_loadu_ps(m, sin_table + i);
            _mm512_mask_storeu_ps(x + i, m, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
            _mm512_mask_storeu_ps(x1 + i, m, _mm512_fmadd_ps(b, c, _mm512_mul_ps(a, s)));
        }
        return;
    }
    // Interleaved pairs: 8 pairs per vector; cos/sin duplicated into both lanes of a pair.
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const size_t n = 2 * half;
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = chunk_mask(i, n);
        const __mmask8 mh = (__mmask8)(n - i >= 16 ? 0xFF : (1u << ((n - i) / 2)) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        const __m512 c = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mh, cos_table + i / 2)));
        const __m512 s = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mh, sin_table + i / 2)));
        const __m512 swapped = _mm512_permute_ps(v, 0xB1);   // (x[2i+1], x[2i])
        // even lanes: x·cos − x_next·sin; odd lanes: x·cos + x_prev·sin
        _mm512_mask_storeu_ps(x + i, m, _mm512_fmaddsub_ps(v, c, _mm512_mul_ps(swapped, s)));
    }
}

void ok_rope_heads(float *x, size_t heads, size_t stride, const float *cos_table, const float *sin_table, size_t half,
                   bool neox) {
    for (size_t h = 0; h < heads; h++) ok_rope(x + h * stride, cos_table, sin_table, half, neox);
}

float ok_stream_read(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(c + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(c + i + 64));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(c + i + 128));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(c + i + 192));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
