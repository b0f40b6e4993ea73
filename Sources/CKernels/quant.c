// Scalar kernels (the portable fallback), fp16 conversion, and run-time ISA dispatch.
#include "quant_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

// ---- fp16 -------------------------------------------------------------------------------------
float ck_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) { mant <<= 1; exp--; }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    union { uint32_t u; float f; } v = { bits };
    return v.f;
}

uint16_t ck_fp32_to_fp16(float f) {
    union { float f; uint32_t u; } v = { f };
    uint32_t x = v.u;
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

size_t ck_row_bytes(int type, int64_t n) {
    switch (type) {
    case CK_TYPE_F32: return (size_t)n * 4;
    case CK_TYPE_F16:
    case CK_TYPE_BF16: return (size_t)n * 2;
    case CK_TYPE_Q8_0: return (size_t)(n / CK_QK) * sizeof(ck_block_q8_0);
    case CK_TYPE_Q4_0: return (size_t)(n / CK_QK) * sizeof(ck_block_q4_0);
    case CK_TYPE_Q4_1: return (size_t)(n / CK_QK) * sizeof(ck_block_q4_1);
    case CK_TYPE_Q5_0: return (size_t)(n / CK_QK) * sizeof(ck_block_q5_0);
    case CK_TYPE_Q4_K: return (size_t)(n / CK_QKK) * sizeof(ck_block_q4_k);
    case CK_TYPE_Q6_K: return (size_t)(n / CK_QKK) * sizeof(ck_block_q6_k);
    default: return 0;
    }
}

// ---- scalar dequantization ----------------------------------------------------------------------
void ck_dequantize_row_scalar(int type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case CK_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case CK_TYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_fp16_to_fp32(s[i]);
        break;
    }
    case CK_TYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_bf16_to_fp32(s[i]);
        break;
    }
    case CK_TYPE_Q8_0: {
        const ck_block_q8_0 *b = src;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            for (int j = 0; j < CK_QK; j++) dst[i * CK_QK + j] = d * (float)b[i].qs[j];
        }
        break;
    }
    case CK_TYPE_Q4_0: {
        const ck_block_q4_0 *b = src;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            for (int j = 0; j < CK_QK / 2; j++) {
                dst[i * CK_QK + j] = d * (float)((b[i].qs[j] & 0x0f) - 8);
                dst[i * CK_QK + j + 16] = d * (float)((b[i].qs[j] >> 4) - 8);
            }
        }
        break;
    }
    case CK_TYPE_Q4_1: {
        const ck_block_q4_1 *b = src;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            float m = ck_fp16_to_fp32(b[i].m);
            for (int j = 0; j < CK_QK / 2; j++) {
                dst[i * CK_QK + j] = d * (float)(b[i].qs[j] & 0x0f) + m;
                dst[i * CK_QK + j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
            }
        }
        break;
    }
    case CK_TYPE_Q5_0: {
        const ck_block_q5_0 *b = src;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            uint32_t qh;
            memcpy(&qh, b[i].qh, 4);  // little-endian: bit j is the high bit of element j
            for (int j = 0; j < CK_QK / 2; j++) {
                int h0 = (int)((qh >> j) & 1) << 4;
                int h1 = (int)((qh >> (j + 16)) & 1) << 4;
                dst[i * CK_QK + j] = d * (float)(((b[i].qs[j] & 0x0f) | h0) - 16);
                dst[i * CK_QK + j + 16] = d * (float)(((b[i].qs[j] >> 4) | h1) - 16);
            }
        }
        break;
    }
    case CK_TYPE_Q4_K: {
        const ck_block_q4_k *b = src;
        for (int64_t i = 0; i < n / CK_QKK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            float dmin = ck_fp16_to_fp32(b[i].dmin);
            float *y = dst + i * CK_QKK;
            for (int g = 0; g < 4; g++) {  // 64 elements: sub-blocks 2g (low nibbles), 2g+1 (high)
                const uint8_t *q = b[i].qs + 32 * g;
                uint8_t sc, m;
                ck_q4k_scale_min(2 * g, b[i].scales, &sc, &m);
                float d1 = d * (float)sc, m1 = dmin * (float)m;
                ck_q4k_scale_min(2 * g + 1, b[i].scales, &sc, &m);
                float d2 = d * (float)sc, m2 = dmin * (float)m;
                for (int l = 0; l < 32; l++) y[64 * g + l] = d1 * (float)(q[l] & 0x0f) - m1;
                for (int l = 0; l < 32; l++) y[64 * g + 32 + l] = d2 * (float)(q[l] >> 4) - m2;
            }
        }
        break;
    }
    case CK_TYPE_Q6_K: {
        const ck_block_q6_k *b = src;
        for (int64_t i = 0; i < n / CK_QKK; i++) {
            float d = ck_fp16_to_fp32(b[i].d);
            for (int h = 0; h < 2; h++) {  // halves of 128 elements
                const uint8_t *ql = b[i].ql + 64 * h;
                const uint8_t *qh = b[i].qh + 32 * h;
                const int8_t *sc = b[i].scales + 8 * h;
                float *y = dst + i * CK_QKK + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * (float)sc[is] * (float)q1;
                    y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                    y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                    y[l + 96] = d * (float)sc[is + 6] * (float)q4;
                }
            }
        }
        break;
    }
    default: break;
    }
}

// Scalar rows kernel: dequantize one block at a time (32 elements, or a 256-element super-block
// for the K types), accumulate per token.
static void rows_scalar_generic(int type, const void *W, size_t row_bytes, int r0, int r1, int cols,
                                const float *X, int ntok, float *Y, int ldy) {
    float w[CK_QKK];
    int chunk = ck_block_elems(type) == CK_QKK ? CK_QKK : CK_QK;
    size_t block_bytes = ck_row_bytes(type, chunk);
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W + (size_t)r * row_bytes;
        for (int t = 0; t < ntok; t++) Y[(size_t)t * ldy + r] = 0;
        int full = cols / chunk;
        for (int b = 0; b < full; b++) {
            ck_dequantize_row_scalar(type, row + (size_t)b * block_bytes, w, chunk);
            for (int t = 0; t < ntok; t++) {
                const float *x = X + (size_t)t * cols + b * chunk;
                float s = 0;
                for (int j = 0; j < chunk; j++) s += w[j] * x[j];
                Y[(size_t)t * ldy + r] += s;
            }
        }
        int tail = cols - full * chunk;  // float types only
        if (tail > 0) {
            ck_dequantize_row_scalar(type, row + (size_t)full * block_bytes, w, tail);
            for (int t = 0; t < ntok; t++) {
                const float *x = X + (size_t)t * cols + full * chunk;
                float s = 0;
                for (int j = 0; j < tail; j++) s += w[j] * x[j];
                Y[(size_t)t * ldy + r] += s;
            }
        }
    }
}

#define CK_SCALAR_ROWS(name, type)                                                              \
    static void name(const void *W, size_t rb, int r0, int r1, int cols, const float *X,       \
                     int ntok, float *Y, int ldy) {                                              \
        rows_scalar_generic(type, W, rb, r0, r1, cols, X, ntok, Y, ldy);                         \
    }
CK_SCALAR_ROWS(rows_scalar_f32, CK_TYPE_F32)
CK_SCALAR_ROWS(rows_scalar_f16, CK_TYPE_F16)
CK_SCALAR_ROWS(rows_scalar_bf16, CK_TYPE_BF16)
CK_SCALAR_ROWS(rows_scalar_q8_0, CK_TYPE_Q8_0)
CK_SCALAR_ROWS(rows_scalar_q4_0, CK_TYPE_Q4_0)
CK_SCALAR_ROWS(rows_scalar_q4_1, CK_TYPE_Q4_1)
CK_SCALAR_ROWS(rows_scalar_q5_0, CK_TYPE_Q5_0)
CK_SCALAR_ROWS(rows_scalar_q4_k, CK_TYPE_Q4_K)
CK_SCALAR_ROWS(rows_scalar_q6_k, CK_TYPE_Q6_K)

ck_rows_fn ck_rows_scalar(int type) {
    switch (type) {
    case CK_TYPE_F32: return rows_scalar_f32;
    case CK_TYPE_F16: return rows_scalar_f16;
    case CK_TYPE_BF16: return rows_scalar_bf16;
    case CK_TYPE_Q8_0: return rows_scalar_q8_0;
    case CK_TYPE_Q4_0: return rows_scalar_q4_0;
    case CK_TYPE_Q4_1: return rows_scalar_q4_1;
    case CK_TYPE_Q5_0: return rows_scalar_q5_0;
    case CK_TYPE_Q4_K: return rows_scalar_q4_k;
    case CK_TYPE_Q6_K: return rows_scalar_q6_k;
    default: return NULL;
    }
}

// ---- dispatch -------------------------------------------------------------------------------------
// Per thread, so a test forcing the scalar path cannot change another thread's results.
static _Thread_local int ck_forced_isa = -1;

int ck_isa_detected(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c"))
        return CK_ISA_AVX2;
#endif
    return CK_ISA_SCALAR;
}

int ck_isa_active(void) {
    static _Atomic int detected = -1;
    int d = atomic_load(&detected);
    if (d < 0) { d = ck_isa_detected(); atomic_store(&detected, d); }
    int f = ck_forced_isa;
    return (f >= 0 && f < d) ? f : d;
}

void ck_isa_force(int isa) { ck_forced_isa = isa; }

void ck_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    if (ck_isa_active() == CK_ISA_AVX2) ck_dequantize_row_avx2(type, src, dst, n);
    else ck_dequantize_row_scalar(type, src, dst, n);
}

float ck_dot(int type, const void *w, const float *x, int64_t n) {
    float y = 0;
    ck_rows_fn fn = ck_isa_active() == CK_ISA_AVX2 ? ck_rows_avx2(type) : ck_rows_scalar(type);
    if (fn) fn(w, ck_row_bytes(type, n), 0, 1, (int)n, x, 1, &y, 1);
    return y;
}
