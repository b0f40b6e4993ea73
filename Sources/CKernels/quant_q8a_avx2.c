// AVX2 integer dot products of Q4_0/Q4_1/Q5_0/Q8_0 weights with 8-bit activations (maddubs), two rows
// at a time so activation loads are shared.
#include "quant_internal.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

// Sum of u8 x s8 products over 32 lanes, as 8 int32 lanes converted to float.
static inline CK_AVX2 __m256 dot_us(__m256i u, __m256i s) {
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

static inline CK_AVX2 __m256 dot_ss(__m256i a, __m256i b) {
    return dot_us(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// Per-format block step: acc += (d_w * d_x) * sum(q_w * q_x); `extra` collects the scalar term
// (Q4_1: m * s, Q4_0: d_w * s for the -8 offset); `finish` turns both into the dot product.
static inline CK_AVX2 __m256 blk_q4_1(const void *row, int b, const ck_block_q8a *x, __m256i xv, __m256 acc, float *extra) {
    const ck_block_q4_1 *w = (const ck_block_q4_1 *)row + b;
    *extra += ck_f16(w->m) * x->s;
    return _mm256_fmadd_ps(_mm256_set1_ps(ck_f16(w->d) * x->d), dot_us(ck_unpack_nibbles(w->qs), xv), acc);
}
static inline float fin_q4_1(float h, float extra) { return h + extra; }

static inline CK_AVX2 __m256 blk_q4_0(const void *row, int b, const ck_block_q8a *x, __m256i xv, __m256 acc, float *extra) {
    const ck_block_q4_0 *w = (const ck_block_q4_0 *)row + b;
    float d = ck_f16(w->d);
    *extra += d * x->s;
    return _mm256_fmadd_ps(_mm256_set1_ps(d * x->d), dot_us(ck_unpack_nibbles(w->qs), xv), acc);
}
static inline float fin_q4_0(float h, float extra) { return h - 8.0f * extra; }

// Q5_0: bit j of the 32-bit qh is bit 4 of element j. Byte j of the mask is 0x10 when it is set.
static inline CK_AVX2 __m256i q5_high_bits(const uint8_t *qh) {
    uint32_t bits = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
    // Byte j takes byte j/8 of the word, then keeps only its bit j%8.
    __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)), _mm256_set1_epi64x(-1));
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

static inline CK_AVX2 __m256i q5_values(const ck_block_q5_0 *w) {
    return _mm256_or_si256(ck_unpack_nibbles(w->qs), q5_high_bits(w->qh));
}

static inline CK_AVX2 __m256 blk_q5_0(const void *row, int b, const ck_block_q8a *x, __m256i xv, __m256 acc, float *extra) {
    const ck_block_q5_0 *w = (const ck_block_q5_0 *)row + b;
    float d = ck_f16(w->d);
    *extra += d * x->s;
    return _mm256_fmadd_ps(_mm256_set1_ps(d * x->d), dot_us(q5_values(w), xv), acc);
}
static inline float fin_q5_0(float h, float extra) { return h - 16.0f * extra; }

static inline CK_AVX2 __m256 blk_q8_0(const void *row, int b, const ck_block_q8a *x, __m256i xv, __m256 acc, float *extra) {
    (void)extra;
    const ck_block_q8_0 *w = (const ck_block_q8_0 *)row + b;
    return _mm256_fmadd_ps(_mm256_set1_ps(ck_f16(w->d) * x->d), dot_ss(_mm256_loadu_si256((const __m256i *)w->qs), xv), acc);
}
static inline float fin_q8_0(float h, float extra) { (void)extra; return h; }

// Two rows per pass share the activation loads; the next row pair is prefetched meanwhile.
#define CK_DEFINE_Q8A_ROWS(NAME, BLK, FIN, BLOCK_T)                                                  \
    static CK_AVX2 void NAME(const void *W, size_t rb, int r0, int r1, int cols,                     \
                             const ck_block_q8a *Xq, int ntok, float *Y, int ldy) {                  \
        int nb = cols / CK_QK;                                                                       \
        for (int t = 0; t < ntok; t++) {                                                             \
            const ck_block_q8a *x = Xq + (size_t)t * nb;                                             \
            int r = r0;                                                                              \
            for (; r + 2 <= r1; r += 2) {                                                            \
                const uint8_t *w0 = (const uint8_t *)W + (size_t)r * rb, *w1 = w0 + rb;              \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0;                                            \
                float e0 = 0, e1 = 0;                                                                \
                for (int b = 0; b < nb; b++) {                                                       \
                    _mm_prefetch((const char *)((const BLOCK_T *)w0 + b) + 2 * rb, _MM_HINT_T0);     \
                    _mm_prefetch((const char *)((const BLOCK_T *)w1 + b) + 2 * rb, _MM_HINT_T0);     \
                    __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);                       \
                    a0 = BLK(w0, b, &x[b], xv, a0, &e0);                                             \
                    a1 = BLK(w1, b, &x[b], xv, a1, &e1);                                             \
                }                                                                                    \
                Y[(size_t)t * ldy + r] = FIN(ck_hsum8(a0), e0);                                         \
                Y[(size_t)t * ldy + r + 1] = FIN(ck_hsum8(a1), e1);                                     \
            }                                                                                        \
            for (; r < r1; r++) {                                                                    \
                const uint8_t *w0 = (const uint8_t *)W + (size_t)r * rb;                             \
                __m256 a0 = _mm256_setzero_ps();                                                     \
                float e0 = 0;                                                                        \
                for (int b = 0; b < nb; b++)                                                         \
                    a0 = BLK(w0, b, &x[b], _mm256_loadu_si256((const __m256i *)x[b].qs), a0, &e0);   \
                Y[(size_t)t * ldy + r] = FIN(ck_hsum8(a0), e0);                                         \
            }                                                                                        \
        }                                                                                            \
    }

CK_DEFINE_Q8A_ROWS(rows_q8a_avx2_q4_1, blk_q4_1, fin_q4_1, ck_block_q4_1)
CK_DEFINE_Q8A_ROWS(rows_q8a_avx2_q4_0, blk_q4_0, fin_q4_0, ck_block_q4_0)
CK_DEFINE_Q8A_ROWS(rows_q8a_avx2_q8_0, blk_q8_0, fin_q8_0, ck_block_q8_0)
CK_DEFINE_Q8A_ROWS(rows_q8a_avx2_q5_0, blk_q5_0, fin_q5_0, ck_block_q5_0)

// Weight-stationary variant for small token batches (decode steps of several sequences): each
// weight block is expanded once per group of up to 4 tokens, for two rows at a time.
// `prep` turns a weight block into the unsigned maddubs operand (and the sign source for Q8_0).
static inline CK_AVX2 __m256i prep_q4_0(const ck_block_q4_0 *w) { return ck_unpack_nibbles(w->qs); }
static inline CK_AVX2 __m256i prep_q4_1(const ck_block_q4_1 *w) { return ck_unpack_nibbles(w->qs); }

#define CK_DEFINE_Q8A_ROWS_MULTI(NAME, BLOCK_T, PREP_U, SIGNED, SCALE_M, FIN)                       \
    static CK_AVX2 void NAME(const void *W, size_t rb, int r0, int r1, int cols,                     \
                             const ck_block_q8a *Xq, int ntok, float *Y, int ldy) {                  \
        int nb = cols / CK_QK;                                                                       \
        for (int r = r0; r < r1; r += 2) {                                                           \
            int two = r + 1 < r1;                                                                    \
            const BLOCK_T *w0 = (const BLOCK_T *)((const uint8_t *)W + (size_t)r * rb);              \
            const BLOCK_T *w1 = two ? (const BLOCK_T *)((const uint8_t *)w0 + rb) : w0;              \
            for (int t0 = 0; t0 < ntok; t0 += 4) {                                                   \
                int tg = ntok - t0 < 4 ? ntok - t0 : 4;                                              \
                __m256 a0[4], a1[4];                                                                 \
                float e0[4] = {0, 0, 0, 0}, e1[4] = {0, 0, 0, 0};                                    \
                for (int k = 0; k < 4; k++) { a0[k] = _mm256_setzero_ps(); a1[k] = a0[k]; }          \
                for (int b = 0; b < nb; b++) {                                                       \
                    _mm_prefetch((const char *)(w0 + b) + 2 * rb, _MM_HINT_T0);                      \
                    __m256i raw0 = PREP_U(&w0[b]), raw1 = PREP_U(&w1[b]);                        \
                    __m256i u0 = SIGNED ? _mm256_sign_epi8(raw0, raw0) : raw0;                       \
                    __m256i u1 = SIGNED ? _mm256_sign_epi8(raw1, raw1) : raw1;                       \
                    float d0 = ck_f16(w0[b].d), d1 = ck_f16(w1[b].d);                                \
                    float m0 = SCALE_M(w0[b], d0), m1 = SCALE_M(w1[b], d1);                          \
                    for (int k = 0; k < 4; k++) {                                                    \
                        if (k >= tg) break;                                                          \
                        const ck_block_q8a *x = Xq + (size_t)(t0 + k) * nb + b;                      \
                        __m256i xv = _mm256_loadu_si256((const __m256i *)x->qs);                     \
                        __m256i s0 = SIGNED ? _mm256_sign_epi8(xv, raw0) : xv;                       \
                        __m256i s1 = SIGNED ? _mm256_sign_epi8(xv, raw1) : xv;                       \
                        a0[k] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * x->d), dot_us(u0, s0), a0[k]);   \
                        a1[k] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * x->d), dot_us(u1, s1), a1[k]);   \
                        e0[k] += m0 * x->s;                                                          \
                        e1[k] += m1 * x->s;                                                          \
                    }                                                                                \
                }                                                                                    \
                for (int k = 0; k < tg; k++) {                                                       \
                    Y[(size_t)(t0 + k) * ldy + r] = FIN(ck_hsum8(a0[k]), e0[k]);                     \
                    if (two) Y[(size_t)(t0 + k) * ldy + r + 1] = FIN(ck_hsum8(a1[k]), e1[k]);        \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

static inline CK_AVX2 __m256i prep_q8(const ck_block_q8_0 *w) { return _mm256_loadu_si256((const __m256i *)w->qs); }
#define CK_M_Q4_1(blk, d) ck_f16((blk).m)
#define CK_M_D(blk, d) (d)
#define CK_M_NONE(blk, d) 0.0f

CK_DEFINE_Q8A_ROWS_MULTI(rows_q8a_multi_q4_1, ck_block_q4_1, prep_q4_1, 0, CK_M_Q4_1, fin_q4_1)
CK_DEFINE_Q8A_ROWS_MULTI(rows_q8a_multi_q4_0, ck_block_q4_0, prep_q4_0, 0, CK_M_D, fin_q4_0)
CK_DEFINE_Q8A_ROWS_MULTI(rows_q8a_multi_q5_0, ck_block_q5_0, q5_values, 0, CK_M_D, fin_q5_0)
CK_DEFINE_Q8A_ROWS_MULTI(rows_q8a_multi_q8_0, ck_block_q8_0, prep_q8, 1, CK_M_NONE, fin_q8_0)

// ck_quantize_q8a with AVX2, bit for bit: the same |x| maximum, scale, products and
// round-to-nearest-even conversion as the scalar loop (lrintf), eight lanes at a time.
CK_AVX2 void ck_quantize_q8a_avx2(const float *x, ck_block_q8a *out, int64_t n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / CK_QK; b++) {
        const float *v = x + b * CK_QK;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float d = _mm_cvtss_f32(h) / 127.0f;
        __m256 id = _mm256_set1_ps(d != 0 ? 1.0f / d : 0);
        __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, id)), q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, id));
        __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, id)), q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, id));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        // The packs interleave 128-bit lanes; the permute puts the 32 bytes back in element order.
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)out[b].qs, p);
        out[b].d = d;
        out[b].s = d * (float)_mm_cvtsi128_si32(s4);
    }
}

ck_rows_q8a_fn ck_rows_q8a_avx2_multi(int type) {
    switch (type) {
    case CK_TYPE_Q8_0: return rows_q8a_multi_q8_0;
    case CK_TYPE_Q4_0: return rows_q8a_multi_q4_0;
    case CK_TYPE_Q4_1: return rows_q8a_multi_q4_1;
    case CK_TYPE_Q5_0: return rows_q8a_multi_q5_0;
    default: return NULL;
    }
}

ck_rows_q8a_fn ck_rows_q8a_avx2(int type) {
    switch (type) {
    case CK_TYPE_Q8_0: return rows_q8a_avx2_q8_0;
    case CK_TYPE_Q4_0: return rows_q8a_avx2_q4_0;
    case CK_TYPE_Q4_1: return rows_q8a_avx2_q4_1;
    case CK_TYPE_Q5_0: return rows_q8a_avx2_q5_0;
    default: return NULL;
    }
}
#else
ck_rows_q8a_fn ck_rows_q8a_avx2(int type) { return ck_rows_q8a_scalar(type); }
ck_rows_q8a_fn ck_rows_q8a_avx2_multi(int type) { return ck_rows_q8a_scalar(type); }
#endif
