// Private declarations shared by the kernel files: block layouts and per-ISA entry points.
#ifndef CK_QUANT_INTERNAL_H
#define CK_QUANT_INTERNAL_H
#include "ckernels.h"

#define CK_QK 32   // elements per block for Q4_0, Q4_1, Q5_0 and Q8_0
#define CK_QKK 256 // elements per super-block for the K types (Q4_K, Q6_K)

// Q8_0: 32 signed bytes and one fp16 scale. value = d * q
typedef struct { uint16_t d; int8_t qs[CK_QK]; } ck_block_q8_0;
// Q4_0: 32 4-bit values (byte j: element j in the low nibble, element j+16 in the high nibble)
// and one fp16 scale. value = d * (q - 8)
typedef struct { uint16_t d; uint8_t qs[CK_QK / 2]; } ck_block_q4_0;
// Q4_1: as Q4_0 plus an fp16 minimum. value = d * q + m
typedef struct { uint16_t d; uint16_t m; uint8_t qs[CK_QK / 2]; } ck_block_q4_1;

// Q5_0: fp16 scale d, 32 high bits (bit j of the little-endian uint32 qh is bit 4 of element j),
// then 16 nibble bytes as in Q4_0. value = d * (q - 16), q in 0..31
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[CK_QK / 2]; } ck_block_q5_0;
// Q4_K: super-block of 256 = 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit minimum
// packed into scales[12] (see ck_q4k_scale_min). qs: 4 groups of 32 bytes; group g holds
// sub-block 2g in the low nibbles and sub-block 2g+1 in the high nibbles.
// value = d * sc * q - dmin * m
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[CK_QKK / 2]; } ck_block_q4_k;
// Q6_K: super-block of 256 = 16 sub-blocks of 16 with signed 8-bit scales. Per half of 128:
// ql 64 bytes (low 4 bits), qh 32 bytes (high 2 bits), see ck_dequantize_row_scalar.
// value = d * sc * (q - 32), q in 0..63
typedef struct { uint8_t ql[CK_QKK / 2]; uint8_t qh[CK_QKK / 4]; int8_t scales[CK_QKK / 16]; uint16_t d; } ck_block_q6_k;

_Static_assert(sizeof(ck_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(ck_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(ck_block_q4_k) == 144, "q4_k block");
_Static_assert(sizeof(ck_block_q6_k) == 210, "q6_k block");
_Static_assert(sizeof(ck_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(ck_block_q4_1) == 20, "q4_1 block");

/// Inner kernel: for rows [r0, r1) and `ntok` tokens, Y[t*ldy + r] = dot(W_r, X_t).
typedef void (*ck_rows_fn)(const void *W, size_t row_bytes, int r0, int r1, int cols,
                           const float *X, int ntok, float *Y, int ldy);

/// Integer kernel: Y[t*ldy + r] = dot(W_r, Xq_t) with Xq quantized activations (cols/32 blocks per token).
typedef void (*ck_rows_q8a_fn)(const void *W, size_t row_bytes, int r0, int r1, int cols,
                               const ck_block_q8a *Xq, int ntok, float *Y, int ldy);
ck_rows_q8a_fn ck_rows_q8a_scalar(int type);
/// ck_quantize_q8a per instruction set (the AVX2 one gives the same bytes and floats).
void ck_quantize_q8a_scalar(const float *x, ck_block_q8a *out, int64_t n);
void ck_quantize_q8a_avx2(const float *x, ck_block_q8a *out, int64_t n);
ck_rows_q8a_fn ck_rows_q8a_avx2(int type);
/// Weight-stationary AVX2 variant for 2+ tokens (weights expanded once per 4 tokens, 2 rows at a time).
ck_rows_q8a_fn ck_rows_q8a_avx2_multi(int type);

ck_rows_fn ck_rows_scalar(int type);
/// A caller-side buffer for quantized activations (kept by the pool, grown on demand).
ck_block_q8a *ck_pool_activation_buffer(ck_pool *pool, size_t blocks);
/// The same buffer as floats (the panel GEMM's transposed activations); one user per call.
float *ck_pool_shared_floats(ck_pool *pool, size_t floats);
/// Panel GEMM (gemm_panel.c): Y = X * W^T with weights dequantized six rows at a time.
void ck_gemm_panel(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                   const float *X, int ntok, float *Y, int ldy);
/// Integer panel GEMM (gemm_panel_q8.c) over Q4_0/Q4_1 with 8-bit activations; returns 0 without
/// computing anything where it does not apply (other types, no AVX2). From 4 tokens on it beats the
/// row kernels (8 tokens: ~2.5x).
#define CK_Q8P_MIN_TOKENS 4
int ck_gemm_panel_q8(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                     const float *X, int ntok, float *Y, int ldy);
ck_rows_fn ck_rows_avx2(int type);
void ck_dequantize_row_scalar(int type, const void *src, float *dst, int64_t n);
void ck_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n);

/// Elements per block of a quantized type (1 for float types, 0 for unknown types).
static inline int ck_block_elems(int type) {
    switch (type) {
    case CK_TYPE_F32: case CK_TYPE_F16: case CK_TYPE_BF16: return 1;
    case CK_TYPE_Q4_0: case CK_TYPE_Q4_1: case CK_TYPE_Q5_0: case CK_TYPE_Q8_0: return CK_QK;
    case CK_TYPE_Q4_K: case CK_TYPE_Q6_K: return CK_QKK;
    default: return 0;
    }
}

/// Q4_K: 6-bit scale and minimum of sub-block j (0..7) from the packed scales[12], as ggml's
/// get_scale_min_k4: j < 4 in the low 6 bits of bytes j and j+4; j >= 4 in the nibbles of byte
/// j+4 with the top two bits in the high bits of bytes j-4 (scale) and j (minimum).
static inline void ck_q4k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

static inline float ck_bf16_to_fp32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}
#endif
