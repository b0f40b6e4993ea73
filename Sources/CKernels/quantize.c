// Weight quantization (the writer side of the formats): float rows into Q8_0, Q4_0, F16, BF16 or F32,
// with ggml's reference rounding so that files written here match llama.cpp's quantizer.
#include <math.h>
#include <string.h>
#include "quant_internal.h"

static uint16_t fp32_to_bf16(float f) {
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffff) > 0x7f800000) return (uint16_t)((v.u >> 16) | 64);  // NaN stays NaN
    return (uint16_t)((v.u + (0x7fff + ((v.u >> 16) & 1))) >> 16);           // round to nearest even
}

size_t ck_quantize_row(int type, const float *src, void *dst, int64_t n) {
    switch (type) {
    case CK_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        return (size_t)n * 4;
    case CK_TYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = ck_fp32_to_fp16(src[i]);
        return (size_t)n * 2;
    }
    case CK_TYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = fp32_to_bf16(src[i]);
        return (size_t)n * 2;
    }
    case CK_TYPE_Q8_0: {
        if (n % CK_QK) return 0;
        ck_block_q8_0 *b = dst;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            const float *x = src + i * CK_QK;
            float amax = 0;
            for (int j = 0; j < CK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
            float d = amax / 127.0f;
            float id = d != 0 ? 1.0f / d : 0;
            b[i].d = ck_fp32_to_fp16(d);
            for (int j = 0; j < CK_QK; j++) b[i].qs[j] = (int8_t)roundf(x[j] * id);
        }
        return (size_t)(n / CK_QK) * sizeof(ck_block_q8_0);
    }
    case CK_TYPE_Q4_0: {
        if (n % CK_QK) return 0;
        ck_block_q4_0 *b = dst;
        for (int64_t i = 0; i < n / CK_QK; i++) {
            const float *x = src + i * CK_QK;
            // The value of largest magnitude, with its sign, maps to -8.
            float amax = 0, max = 0;
            for (int j = 0; j < CK_QK; j++) {
                if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
            }
            float d = max / -8.0f;
            float id = d != 0 ? 1.0f / d : 0;
            b[i].d = ck_fp32_to_fp16(d);
            for (int j = 0; j < CK_QK / 2; j++) {
                int lo = (int)(x[j] * id + 8.5f), hi = (int)(x[j + CK_QK / 2] * id + 8.5f);
                lo = lo > 15 ? 15 : lo;
                hi = hi > 15 ? 15 : hi;
                b[i].qs[j] = (uint8_t)(lo | (hi << 4));
            }
        }
        return (size_t)(n / CK_QK) * sizeof(ck_block_q4_0);
    }
    default:
        return 0;
    }
}
