// Private declarations shared by the kernel files: block layouts and per-ISA entry points.
#ifndef CK_QUANT_INTERNAL_H
#define CK_QUANT_INTERNAL_H
#include "ckernels.h"

#define CK_QK 32  // elements per block for Q4_0, Q4_1 and Q8_0

// Q8_0: 32 signed bytes and one fp16 scale. value = d * q
typedef struct { uint16_t d; int8_t qs[CK_QK]; } ck_block_q8_0;
// Q4_0: 32 4-bit values (byte j: element j in the low nibble, element j+16 in the high nibble)
// and one fp16 scale. value = d * (q - 8)
typedef struct { uint16_t d; uint8_t qs[CK_QK / 2]; } ck_block_q4_0;
// Q4_1: as Q4_0 plus an fp16 minimum. value = d * q + m
typedef struct { uint16_t d; uint16_t m; uint8_t qs[CK_QK / 2]; } ck_block_q4_1;

_Static_assert(sizeof(ck_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(ck_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(ck_block_q4_1) == 20, "q4_1 block");

/// Inner kernel: for rows [r0, r1) and `ntok` tokens, Y[t*ldy + r] = dot(W_r, X_t).
typedef void (*ck_rows_fn)(const void *W, size_t row_bytes, int r0, int r1, int cols,
                           const float *X, int ntok, float *Y, int ldy);

/// Integer kernel: Y[t*ldy + r] = dot(W_r, Xq_t) with Xq quantized activations (cols/32 blocks per token).
typedef void (*ck_rows_q8a_fn)(const void *W, size_t row_bytes, int r0, int r1, int cols,
                               const ck_block_q8a *Xq, int ntok, float *Y, int ldy);
ck_rows_q8a_fn ck_rows_q8a_scalar(int type);
ck_rows_q8a_fn ck_rows_q8a_avx2(int type);
/// Weight-stationary AVX2 variant for 2+ tokens (weights expanded once per 4 tokens, 2 rows at a time).
ck_rows_q8a_fn ck_rows_q8a_avx2_multi(int type);

ck_rows_fn ck_rows_scalar(int type);
/// A caller-side buffer for quantized activations (kept by the pool, grown on demand).
ck_block_q8a *ck_pool_activation_buffer(ck_pool *pool, size_t blocks);
ck_rows_fn ck_rows_avx2(int type);
void ck_dequantize_row_scalar(int type, const void *src, float *dst, int64_t n);
void ck_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n);

static inline float ck_bf16_to_fp32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}
#endif
