// Element-wise layer pieces: RMSNorm, rotary embedding (adjacent and NEOX pairs), SwiGLU, GeGLU,
// scaling, residual add.
#include "ckernels.h"
#include "simd_avx2.h"

#include <math.h>

void ck_rmsnorm(const float *x, const float *w, float *out, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *o = out + (size_t)r * n;
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)xr[i] * xr[i];
        float scale = (float)(1.0 / sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) o[i] = xr[i] * scale * w[i];
    }
}

void ck_rope_table(float *table, int ntok, int head_dim, int pos0, float theta_base) {
    int half = head_dim / 2;
    for (int t = 0; t < ntok; t++) {
        for (int i = 0; i < half; i++) {
            double freq = pow((double)theta_base, -2.0 * i / head_dim);
            double angle = (double)(pos0 + t) * freq;
            table[((size_t)t * half + i) * 2] = (float)cos(angle);
            table[((size_t)t * half + i) * 2 + 1] = (float)sin(angle);
        }
    }
}

void ck_rope(float *x, int ntok, int nheads, int head_dim, const float *table, int ld) {
    int half = head_dim / 2;
    for (int t = 0; t < ntok; t++) {
        const float *cs = table + (size_t)t * half * 2;
        for (int h = 0; h < nheads; h++) {
            float *v = x + (size_t)t * ld + (size_t)h * head_dim;
            for (int i = 0; i < half; i++) {
                float c = cs[2 * i], s = cs[2 * i + 1];
                float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * c - b * s;
                v[2 * i + 1] = a * s + b * c;
            }
        }
    }
}

void ck_rope_neox(float *x, int ntok, int nheads, int head_dim, const float *table, int ld) {
    int half = head_dim / 2;
    for (int t = 0; t < ntok; t++) {
        const float *cs = table + (size_t)t * half * 2;
        for (int h = 0; h < nheads; h++) {
            float *v = x + (size_t)t * ld + (size_t)h * head_dim;
            for (int i = 0; i < half; i++) {
                float c = cs[2 * i], s = cs[2 * i + 1];
                float a = v[i], b = v[i + half];
                v[i] = a * c - b * s;
                v[i + half] = a * s + b * c;
            }
        }
    }
}

void ck_geglu(float *gate, const float *up, int64_t n) {
    const float k = 0.7978845608028654f; // sqrt(2 / pi)
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = 0.5f * g * (1.0f + tanhf(k * g * (1.0f + 0.044715f * g * g))) * up[i];
    }
}

void ck_scale(float *x, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

static void ck_swiglu_scalar(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

#if defined(__x86_64__)
static CK_AVX2 void ck_swiglu_avx2(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, ck_exp8(_mm256_sub_ps(zero, g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    ck_swiglu_scalar(gate + i, up + i, n - i);
}
#endif

void ck_swiglu(float *gate, const float *up, int64_t n) {
#if defined(__x86_64__)
    if (ck_isa_active() == CK_ISA_AVX2) {
        ck_swiglu_avx2(gate, up, n);
        return;
    }
#endif
    ck_swiglu_scalar(gate, up, n);
}

void ck_add(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}
