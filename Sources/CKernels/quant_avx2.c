// AVX2 + FMA + F16C kernels. Compiled with per-function target attributes so the binary still runs
// on older CPUs: ck_isa_active() decides at run time whether these are called.
#include "quant_internal.h"

#if defined(__x86_64__)
#include "simd_avx2.h"

#include <string.h>

// ---- block loaders: 32 weights -> four vectors of 8 floats ---------------------------------------
static inline CK_AVX2 void load_f32(const void *row, int b, __m256 w[4]) {
    const float *p = (const float *)row + b * CK_QK;
    w[0] = _mm256_loadu_ps(p); w[1] = _mm256_loadu_ps(p + 8);
    w[2] = _mm256_loadu_ps(p + 16); w[3] = _mm256_loadu_ps(p + 24);
}

static inline CK_AVX2 void load_f16(const void *row, int b, __m256 w[4]) {
    const uint16_t *p = (const uint16_t *)row + b * CK_QK;
    for (int i = 0; i < 4; i++) w[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8 * i)));
}

static inline CK_AVX2 void load_bf16(const void *row, int b, __m256 w[4]) {
    const uint16_t *p = (const uint16_t *)row + b * CK_QK;
    for (int i = 0; i < 4; i++) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 8 * i)));
        w[i] = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
}

static inline CK_AVX2 void load_q8_0(const void *row, int b, __m256 w[4]) {
    const ck_block_q8_0 *blk = (const ck_block_q8_0 *)row + b;
    __m256 d = _mm256_set1_ps(ck_f16(blk->d));
    for (int i = 0; i < 4; i++) {
        __m128i q = _mm_loadl_epi64((const __m128i *)(blk->qs + 8 * i));
        w[i] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
    }
}

static inline CK_AVX2 void nibbles(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    __m128i bytes = _mm_loadu_si128((const __m128i *)qs);
    __m128i mask = _mm_set1_epi8(0x0f);
    *lo = _mm_and_si128(bytes, mask);
    *hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
}

static inline CK_AVX2 void load_q4_0(const void *row, int b, __m256 w[4]) {
    const ck_block_q4_0 *blk = (const ck_block_q4_0 *)row + b;
    __m256 d = _mm256_set1_ps(ck_f16(blk->d));
    __m128i lo, hi;
    nibbles(blk->qs, &lo, &hi);
    __m128i eight = _mm_set1_epi8(8);
    lo = _mm_sub_epi8(lo, eight);
    hi = _mm_sub_epi8(hi, eight);
    w[0] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)));
    w[1] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))));
    w[2] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)));
    w[3] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))));
}

static inline CK_AVX2 void load_q4_1(const void *row, int b, __m256 w[4]) {
    const ck_block_q4_1 *blk = (const ck_block_q4_1 *)row + b;
    __m256 d = _mm256_set1_ps(ck_f16(blk->d));
    __m256 m = _mm256_set1_ps(ck_f16(blk->m));
    __m128i lo, hi;
    nibbles(blk->qs, &lo, &hi);
    w[0] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), m);
    w[1] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), m);
    w[2] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), m);
    w[3] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), m);
}

// Q5_0: 32 bytes of (nibble | high bit << 4) - 16, then scaled.
static inline CK_AVX2 void load_q5_0(const void *row, int b, __m256 w[4]) {
    const ck_block_q5_0 *blk = (const ck_block_q5_0 *)row + b;
    __m256 d = _mm256_set1_ps(ck_f16(blk->d));
    uint32_t qh;
    memcpy(&qh, blk->qh, 4);
    // Byte j of `hb` = 0x10 where bit j of qh is set (ggml's bytes_from_bits_32, masked).
    __m256i bits = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
                                       _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL,
                                                          0x0303030303030303LL));
    bits = _mm256_or_si256(bits, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL));
    __m256i hb = _mm256_and_si256(_mm256_cmpeq_epi8(bits, _mm256_set1_epi8(-1)), _mm256_set1_epi8(0x10));
    __m128i lo, hi;
    nibbles(blk->qs, &lo, &hi);
    __m128i sixteen = _mm_set1_epi8(16);
    lo = _mm_sub_epi8(_mm_or_si128(lo, _mm256_castsi256_si128(hb)), sixteen);
    hi = _mm_sub_epi8(_mm_or_si128(hi, _mm256_extracti128_si256(hb, 1)), sixteen);
    w[0] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)));
    w[1] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))));
    w[2] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)));
    w[3] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))));
}

// ---- K types: per super-block scales decoded once (prep), then sub-blocks of 32 ------------------
// Q4_K: d1[j] = d * scale_j, m1[j] = dmin * min_j for the 8 sub-blocks.
typedef struct { float d1[8], m1[8]; } ck_q4k_prep;
static inline CK_AVX2 void prep_q4_k(const ck_block_q4_k *blk, ck_q4k_prep *p) {
    float d = ck_f16(blk->d), dmin = ck_f16(blk->dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ck_q4k_scale_min(j, blk->scales, &sc, &m);
        p->d1[j] = d * (float)sc;
        p->m1[j] = dmin * (float)m;
    }
}
// Sub-block s: nibbles (low for even s, high for odd) of the 32 bytes qs[32*(s/2)...].
// d1 * q - m1 with one rounding equals the scalar mul-then-sub: d1 * q is exact in float
// (11-bit fp16 significand x 6-bit scale x 4-bit q), so the dequantized values match bit for bit.
static inline CK_AVX2 void load_q4_k(const ck_block_q4_k *blk, const ck_q4k_prep *p, int s, __m256 w[4]) {
    const uint8_t *q = blk->qs + 32 * (s >> 1);
    __m128i shift = _mm_cvtsi32_si128(4 * (s & 1));
    __m128i mask = _mm_set1_epi8(0x0f);
    __m128i a = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)q), shift), mask);
    __m128i c = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)(q + 16)), shift), mask);
    __m256 d = _mm256_set1_ps(p->d1[s]), m = _mm256_set1_ps(p->m1[s]);
    w[0] = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(a)), m);
    w[1] = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(a, 8))), m);
    w[2] = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(c)), m);
    w[3] = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(c, 8))), m);
}

// Q6_K: dsc[k] = d * scale_k for the 16 sub-blocks of 16 (the scalar code's (d * sc) * q order).
typedef struct { float dsc[16]; } ck_q6k_prep;
static inline CK_AVX2 void prep_q6_k(const ck_block_q6_k *blk, ck_q6k_prep *p) {
    float d = ck_f16(blk->d);
    for (int j = 0; j < 16; j++) p->dsc[j] = d * (float)blk->scales[j];
}
// Sub-block s = 4h + k (half h, quarter k): low 4 bits from ql[64h + 32(k&1) ...] (low nibbles
// for k < 2, high for k >= 2), high 2 bits from bits 2k..2k+1 of qh[32h ...]; scales 8h+2k (first
// 16 elements) and 8h+2k+1 (last 16).
static inline CK_AVX2 void load_q6_k(const ck_block_q6_k *blk, const ck_q6k_prep *p, int s, __m256 w[4]) {
    int h = s >> 2, k = s & 3;
    const uint8_t *ql = blk->ql + 64 * h + 32 * (k & 1);
    const uint8_t *qh = blk->qh + 32 * h;
    __m128i lshift = _mm_cvtsi32_si128(4 * (k >> 1)), hshift = _mm_cvtsi32_si128(2 * k);
    __m128i m4 = _mm_set1_epi8(0x0f), m2 = _mm_set1_epi8(0x03), off = _mm_set1_epi8(32);
    __m128i q0 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)ql), lshift), m4);
    __m128i q1 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)(ql + 16)), lshift), m4);
    __m128i h0 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)qh), hshift), m2);
    __m128i h1 = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)(qh + 16)), hshift), m2);
    q0 = _mm_sub_epi8(_mm_or_si128(q0, _mm_slli_epi16(h0, 4)), off);
    q1 = _mm_sub_epi8(_mm_or_si128(q1, _mm_slli_epi16(h1, 4)), off);
    __m256 d0 = _mm256_set1_ps(p->dsc[8 * h + 2 * k]), d1 = _mm256_set1_ps(p->dsc[8 * h + 2 * k + 1]);
    w[0] = _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0)));
    w[1] = _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q0, 8))));
    w[2] = _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1)));
    w[3] = _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q1, 8))));
}

// ---- rows kernels: Y[t*ldy + r] = dot(W_r, X_t) ----------------------------------------------------
// Weights of one block are expanded once and reused for up to four tokens.
#define CK_DEFINE_ROWS(NAME, LOAD, TYPE)                                                            \
    static CK_AVX2 void NAME(const void *W, size_t rb, int r0, int r1, int cols, const float *X,  \
                             int ntok, float *Y, int ldy) {                                        \
        int nb = cols / CK_QK;                                                                     \
        int tail = cols - nb * CK_QK;                                                              \
        for (int r = r0; r < r1; r++) {                                                            \
            const void *row = (const uint8_t *)W + (size_t)r * rb;                                 \
            int t = 0;                                                                             \
            for (; t + 4 <= ntok; t += 4) {                                                        \
                const float *x0 = X + (size_t)t * cols;                                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                         \
                for (int b = 0; b < nb; b++) {                                                     \
                    __m256 w[4];                                                                   \
                    LOAD(row, b, w);                                                               \
                    const float *xb = x0 + b * CK_QK;                                              \
                    for (int i = 0; i < 4; i++) {                                                  \
                        a0 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 8 * i), a0);               \
                        a1 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + cols + 8 * i), a1);        \
                        a2 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 2 * cols + 8 * i), a2);    \
                        a3 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 3 * cols + 8 * i), a3);    \
                    }                                                                              \
                }                                                                                  \
                float s[4] = {ck_hsum8(a0), ck_hsum8(a1), ck_hsum8(a2), ck_hsum8(a3)};                             \
                if (tail) {                                                                        \
                    float wt[CK_QK];                                                               \
                    ck_dequantize_row_scalar(TYPE, (const uint8_t *)row + ck_row_bytes(TYPE, nb * CK_QK), wt, tail); \
                    for (int k = 0; k < 4; k++)                                                    \
                        for (int j = 0; j < tail; j++) s[k] += wt[j] * x0[(size_t)k * cols + nb * CK_QK + j]; \
                }                                                                                  \
                for (int k = 0; k < 4; k++) Y[(size_t)(t + k) * ldy + r] = s[k];                   \
            }                                                                                      \
            for (; t < ntok; t++) {                                                                \
                const float *x0 = X + (size_t)t * cols;                                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0;                                          \
                for (int b = 0; b < nb; b++) {                                                     \
                    __m256 w[4];                                                                   \
                    LOAD(row, b, w);                                                               \
                    const float *xb = x0 + b * CK_QK;                                              \
                    a0 = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(xb), a0);                           \
                    a1 = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(xb + 8), a1);                       \
                    a0 = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xb + 16), a0);                      \
                    a1 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xb + 24), a1);                      \
                }                                                                                  \
                float s = ck_hsum8(_mm256_add_ps(a0, a1));                                             \
                if (tail) {                                                                        \
                    float wt[CK_QK];                                                               \
                    ck_dequantize_row_scalar(TYPE, (const uint8_t *)row + ck_row_bytes(TYPE, nb * CK_QK), wt, tail); \
                    for (int j = 0; j < tail; j++) s += wt[j] * x0[nb * CK_QK + j];                \
                }                                                                                  \
                Y[(size_t)t * ldy + r] = s;                                                        \
            }                                                                                      \
        }                                                                                          \
    }

CK_DEFINE_ROWS(rows_avx2_f32, load_f32, CK_TYPE_F32)
CK_DEFINE_ROWS(rows_avx2_f16, load_f16, CK_TYPE_F16)
CK_DEFINE_ROWS(rows_avx2_bf16, load_bf16, CK_TYPE_BF16)
CK_DEFINE_ROWS(rows_avx2_q8_0, load_q8_0, CK_TYPE_Q8_0)
CK_DEFINE_ROWS(rows_avx2_q4_0, load_q4_0, CK_TYPE_Q4_0)
CK_DEFINE_ROWS(rows_avx2_q4_1, load_q4_1, CK_TYPE_Q4_1)
CK_DEFINE_ROWS(rows_avx2_q5_0, load_q5_0, CK_TYPE_Q5_0)

// K types (cols a multiple of 256, no tail): scales decoded once per super-block, then the eight
// sub-blocks of 32 expanded and reused for up to four tokens.
#define CK_DEFINE_ROWS_K(NAME, BLOCK_T, PREP_T, PREP, LOAD)                                         \
    static CK_AVX2 void NAME(const void *W, size_t rb, int r0, int r1, int cols, const float *X,  \
                             int ntok, float *Y, int ldy) {                                        \
        int nb = cols / CK_QKK;                                                                    \
        for (int r = r0; r < r1; r++) {                                                            \
            const BLOCK_T *row = (const BLOCK_T *)((const uint8_t *)W + (size_t)r * rb);           \
            int t = 0;                                                                             \
            for (; t + 4 <= ntok; t += 4) {                                                        \
                const float *x0 = X + (size_t)t * cols;                                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                         \
                for (int b = 0; b < nb; b++) {                                                     \
                    PREP_T p;                                                                      \
                    PREP(row + b, &p);                                                             \
                    for (int s = 0; s < 8; s++) {                                                  \
                        __m256 w[4];                                                               \
                        LOAD(row + b, &p, s, w);                                                   \
                        const float *xb = x0 + b * CK_QKK + s * CK_QK;                             \
                        for (int i = 0; i < 4; i++) {                                              \
                            a0 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 8 * i), a0);           \
                            a1 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + cols + 8 * i), a1);    \
                            a2 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 2 * cols + 8 * i), a2); \
                            a3 = _mm256_fmadd_ps(w[i], _mm256_loadu_ps(xb + 3 * cols + 8 * i), a3); \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
                Y[(size_t)t * ldy + r] = ck_hsum8(a0);                                             \
                Y[(size_t)(t + 1) * ldy + r] = ck_hsum8(a1);                                       \
                Y[(size_t)(t + 2) * ldy + r] = ck_hsum8(a2);                                       \
                Y[(size_t)(t + 3) * ldy + r] = ck_hsum8(a3);                                       \
            }                                                                                      \
            for (; t < ntok; t++) {                                                                \
                const float *x0 = X + (size_t)t * cols;                                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0;                                          \
                for (int b = 0; b < nb; b++) {                                                     \
                    PREP_T p;                                                                      \
                    PREP(row + b, &p);                                                             \
                    for (int s = 0; s < 8; s++) {                                                  \
                        __m256 w[4];                                                               \
                        LOAD(row + b, &p, s, w);                                                   \
                        const float *xb = x0 + b * CK_QKK + s * CK_QK;                             \
                        a0 = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(xb), a0);                       \
                        a1 = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(xb + 8), a1);                   \
                        a0 = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xb + 16), a0);                  \
                        a1 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xb + 24), a1);                  \
                    }                                                                              \
                }                                                                                  \
                Y[(size_t)t * ldy + r] = ck_hsum8(_mm256_add_ps(a0, a1));                          \
            }                                                                                      \
        }                                                                                          \
    }

CK_DEFINE_ROWS_K(rows_avx2_q4_k, ck_block_q4_k, ck_q4k_prep, prep_q4_k, load_q4_k)
CK_DEFINE_ROWS_K(rows_avx2_q6_k, ck_block_q6_k, ck_q6k_prep, prep_q6_k, load_q6_k)

ck_rows_fn ck_rows_avx2(int type) {
    switch (type) {
    case CK_TYPE_F32: return rows_avx2_f32;
    case CK_TYPE_F16: return rows_avx2_f16;
    case CK_TYPE_BF16: return rows_avx2_bf16;
    case CK_TYPE_Q8_0: return rows_avx2_q8_0;
    case CK_TYPE_Q4_0: return rows_avx2_q4_0;
    case CK_TYPE_Q4_1: return rows_avx2_q4_1;
    case CK_TYPE_Q5_0: return rows_avx2_q5_0;
    case CK_TYPE_Q4_K: return rows_avx2_q4_k;
    case CK_TYPE_Q6_K: return rows_avx2_q6_k;
    default: return NULL;
    }
}

#define CK_DEFINE_DEQUANT(NAME, LOAD, TYPE)                                                         \
    static CK_AVX2 void NAME(const void *src, float *dst, int64_t n) {                            \
        int64_t nb = n / CK_QK;                                                                    \
        for (int64_t b = 0; b < nb; b++) {                                                         \
            __m256 w[4];                                                                           \
            LOAD(src, (int)b, w);                                                                  \
            for (int i = 0; i < 4; i++) _mm256_storeu_ps(dst + b * CK_QK + 8 * i, w[i]);           \
        }                                                                                          \
        int64_t tail = n - nb * CK_QK;                                                             \
        if (tail) ck_dequantize_row_scalar(TYPE, (const uint8_t *)src + ck_row_bytes(TYPE, nb * CK_QK), dst + nb * CK_QK, tail); \
    }
CK_DEFINE_DEQUANT(dequant_avx2_f16, load_f16, CK_TYPE_F16)
CK_DEFINE_DEQUANT(dequant_avx2_bf16, load_bf16, CK_TYPE_BF16)
CK_DEFINE_DEQUANT(dequant_avx2_q8_0, load_q8_0, CK_TYPE_Q8_0)
CK_DEFINE_DEQUANT(dequant_avx2_q4_0, load_q4_0, CK_TYPE_Q4_0)
CK_DEFINE_DEQUANT(dequant_avx2_q4_1, load_q4_1, CK_TYPE_Q4_1)
CK_DEFINE_DEQUANT(dequant_avx2_q5_0, load_q5_0, CK_TYPE_Q5_0)

#define CK_DEFINE_DEQUANT_K(NAME, BLOCK_T, PREP_T, PREP, LOAD)                                      \
    static CK_AVX2 void NAME(const void *src, float *dst, int64_t n) {                            \
        const BLOCK_T *blk = src;                                                                  \
        for (int64_t b = 0; b < n / CK_QKK; b++) {                                                 \
            PREP_T p;                                                                              \
            PREP(blk + b, &p);                                                                     \
            for (int s = 0; s < 8; s++) {                                                          \
                __m256 w[4];                                                                       \
                LOAD(blk + b, &p, s, w);                                                           \
                for (int i = 0; i < 4; i++) _mm256_storeu_ps(dst + b * CK_QKK + s * CK_QK + 8 * i, w[i]); \
            }                                                                                      \
        }                                                                                          \
    }
CK_DEFINE_DEQUANT_K(dequant_avx2_q4_k, ck_block_q4_k, ck_q4k_prep, prep_q4_k, load_q4_k)
CK_DEFINE_DEQUANT_K(dequant_avx2_q6_k, ck_block_q6_k, ck_q6k_prep, prep_q6_k, load_q6_k)

void ck_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case CK_TYPE_F16: dequant_avx2_f16(src, dst, n); break;
    case CK_TYPE_BF16: dequant_avx2_bf16(src, dst, n); break;
    case CK_TYPE_Q8_0: dequant_avx2_q8_0(src, dst, n); break;
    case CK_TYPE_Q4_0: dequant_avx2_q4_0(src, dst, n); break;
    case CK_TYPE_Q4_1: dequant_avx2_q4_1(src, dst, n); break;
    case CK_TYPE_Q5_0: dequant_avx2_q5_0(src, dst, n); break;
    case CK_TYPE_Q4_K: dequant_avx2_q4_k(src, dst, n); break;
    case CK_TYPE_Q6_K: dequant_avx2_q6_k(src, dst, n); break;
    default: ck_dequantize_row_scalar(type, src, dst, n); break;
    }
}

#else  // not x86_64: scalar only
ck_rows_fn ck_rows_avx2(int type) { return ck_rows_scalar(type); }
void ck_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n) {
    ck_dequantize_row_scalar(type, src, dst, n);
}
#endif
