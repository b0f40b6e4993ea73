// AVX2 integer dot products of Q4_0/Q4_1/Q8_0 weights with 8-bit activations (maddubs), two rows
// at a time so activation loads are shared.
#include "quant_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#ifndef CK_PREFETCH
#define CK_PREFETCH 512  // bytes ahead in each weight row stream
#endif

// fp16 -> fp32 through a zeroed register (movd), avoiding _cvtsh_ss's merge into a live register,
// which chains every block's scale load onto the previous block's accumulator.
static inline CK_AVX2 float f16(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline CK_AVX2 float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 32 nibbles as unsigned bytes: low 16 lanes elements 0..15, high 16 lanes elements 16..31.
static inline CK_AVX2 __m256i unpack_nibbles(const uint8_t *qs) {
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Sum of u8 x s8 products over 32 lanes, as 8 int32 lanes converted to float.
static inline CK_AVX2 __m256 dot_us(__m256i u, __m256i s) {
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

static inline CK_AVX2 __m256 dot_ss(__m256i a, __m256i b) {
    return dot_us(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

static CK_AVX2 void rows_q8a_avx2_q4_1(const void *W, size_t rb, int r0, int r1, int cols,
                                       const ck_block_q8a *Xq, int ntok, float *Y, int ldy) {
    int nb = cols / CK_QK;
    for (int t = 0; t < ntok; t++) {
        const ck_block_q8a *x = Xq + (size_t)t * nb;
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            const ck_block_q4_1 *w0 = (const ck_block_q4_1 *)((const uint8_t *)W + (size_t)r * rb);
            const ck_block_q4_1 *w1 = (const ck_block_q4_1 *)((const uint8_t *)W + (size_t)(r + 1) * rb);
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            float m0 = 0, m1 = 0;
            for (int b = 0; b < nb; b++) {
                _mm_prefetch((const char *)(w0 + b) + 2 * rb, _MM_HINT_T0);
                _mm_prefetch((const char *)(w1 + b) + 2 * rb, _MM_HINT_T0);
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                __m256 dx = _mm256_set1_ps(x[b].d);
                a0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16(w0[b].d)), dx), dot_us(unpack_nibbles(w0[b].qs), xv), a0);
                a1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16(w1[b].d)), dx), dot_us(unpack_nibbles(w1[b].qs), xv), a1);
                m0 += f16(w0[b].m) * x[b].s;
                m1 += f16(w1[b].m) * x[b].s;
            }
            Y[(size_t)t * ldy + r] = hsum8(a0) + m0;
            Y[(size_t)t * ldy + r + 1] = hsum8(a1) + m1;
        }
        for (; r < r1; r++) {
            const ck_block_q4_1 *w0 = (const ck_block_q4_1 *)((const uint8_t *)W + (size_t)r * rb);
            __m256 a0 = _mm256_setzero_ps();
            float m0 = 0;
            for (int b = 0; b < nb; b++) {
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(w0[b].d) * x[b].d), dot_us(unpack_nibbles(w0[b].qs), xv), a0);
                m0 += f16(w0[b].m) * x[b].s;
            }
            Y[(size_t)t * ldy + r] = hsum8(a0) + m0;
        }
    }
}

static CK_AVX2 void rows_q8a_avx2_q4_0(const void *W, size_t rb, int r0, int r1, int cols,
                                       const ck_block_q8a *Xq, int ntok, float *Y, int ldy) {
    int nb = cols / CK_QK;
    for (int t = 0; t < ntok; t++) {
        const ck_block_q8a *x = Xq + (size_t)t * nb;
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            const ck_block_q4_0 *w0 = (const ck_block_q4_0 *)((const uint8_t *)W + (size_t)r * rb);
            const ck_block_q4_0 *w1 = (const ck_block_q4_0 *)((const uint8_t *)W + (size_t)(r + 1) * rb);
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            float c0 = 0, c1 = 0;
            for (int b = 0; b < nb; b++) {
                _mm_prefetch((const char *)(w0 + b) + 2 * rb, _MM_HINT_T0);
                _mm_prefetch((const char *)(w1 + b) + 2 * rb, _MM_HINT_T0);
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                __m256 dx = _mm256_set1_ps(x[b].d);
                float d0 = f16(w0[b].d), d1 = f16(w1[b].d);
                a0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(d0), dx), dot_us(unpack_nibbles(w0[b].qs), xv), a0);
                a1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(d1), dx), dot_us(unpack_nibbles(w1[b].qs), xv), a1);
                c0 += d0 * x[b].s;
                c1 += d1 * x[b].s;
            }
            Y[(size_t)t * ldy + r] = hsum8(a0) - 8.0f * c0;
            Y[(size_t)t * ldy + r + 1] = hsum8(a1) - 8.0f * c1;
        }
        for (; r < r1; r++) {
            const ck_block_q4_0 *w0 = (const ck_block_q4_0 *)((const uint8_t *)W + (size_t)r * rb);
            __m256 a0 = _mm256_setzero_ps();
            float c0 = 0;
            for (int b = 0; b < nb; b++) {
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                float d0 = f16(w0[b].d);
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * x[b].d), dot_us(unpack_nibbles(w0[b].qs), xv), a0);
                c0 += d0 * x[b].s;
            }
            Y[(size_t)t * ldy + r] = hsum8(a0) - 8.0f * c0;
        }
    }
}

static CK_AVX2 void rows_q8a_avx2_q8_0(const void *W, size_t rb, int r0, int r1, int cols,
                                       const ck_block_q8a *Xq, int ntok, float *Y, int ldy) {
    int nb = cols / CK_QK;
    for (int t = 0; t < ntok; t++) {
        const ck_block_q8a *x = Xq + (size_t)t * nb;
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            const ck_block_q8_0 *w0 = (const ck_block_q8_0 *)((const uint8_t *)W + (size_t)r * rb);
            const ck_block_q8_0 *w1 = (const ck_block_q8_0 *)((const uint8_t *)W + (size_t)(r + 1) * rb);
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            for (int b = 0; b < nb; b++) {
                _mm_prefetch((const char *)(w0 + b) + 2 * rb, _MM_HINT_T0);
                _mm_prefetch((const char *)(w1 + b) + 2 * rb, _MM_HINT_T0);
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                __m256 dx = _mm256_set1_ps(x[b].d);
                a0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16(w0[b].d)), dx),
                                     dot_ss(_mm256_loadu_si256((const __m256i *)w0[b].qs), xv), a0);
                a1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16(w1[b].d)), dx),
                                     dot_ss(_mm256_loadu_si256((const __m256i *)w1[b].qs), xv), a1);
            }
            Y[(size_t)t * ldy + r] = hsum8(a0);
            Y[(size_t)t * ldy + r + 1] = hsum8(a1);
        }
        for (; r < r1; r++) {
            const ck_block_q8_0 *w0 = (const ck_block_q8_0 *)((const uint8_t *)W + (size_t)r * rb);
            __m256 a0 = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
                a0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(w0[b].d) * x[b].d),
                                     dot_ss(_mm256_loadu_si256((const __m256i *)w0[b].qs), xv), a0);
            }
            Y[(size_t)t * ldy + r] = hsum8(a0);
        }
    }
}

ck_rows_q8a_fn ck_rows_q8a_avx2(int type) {
    switch (type) {
    case CK_TYPE_Q8_0: return rows_q8a_avx2_q8_0;
    case CK_TYPE_Q4_0: return rows_q8a_avx2_q4_0;
    case CK_TYPE_Q4_1: return rows_q8a_avx2_q4_1;
    default: return NULL;
    }
}
#else
ck_rows_q8a_fn ck_rows_q8a_avx2(int type) { return ck_rows_q8a_scalar(type); }
#endif
