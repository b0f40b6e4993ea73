// Activation quantization and integer dot products (scalar reference + dispatch).
#include "quant_internal.h"

#include <math.h>

void ck_quantize_q8a_scalar(const float *x, ck_block_q8a *out, int64_t n) {
    for (int64_t b = 0; b < n / CK_QK; b++) {
        const float *v = x + b * CK_QK;
        float amax = 0;
        for (int j = 0; j < CK_QK; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0;
        int sum = 0;
        for (int j = 0; j < CK_QK; j++) {
            int q = (int)lrintf(v[j] * id);
            out[b].qs[j] = (int8_t)q;
            sum += q;
        }
        out[b].d = d;
        out[b].s = d * (float)sum;
    }
}

void ck_quantize_q8a(const float *x, ck_block_q8a *out, int64_t n) {
#if defined(__x86_64__)
    if (ck_isa_active() == CK_ISA_AVX2) {
        ck_quantize_q8a_avx2(x, out, n);
        return;
    }
#endif
    ck_quantize_q8a_scalar(x, out, n);
}

static float dot_q8a_scalar(int type, const void *w, const ck_block_q8a *x, int64_t n) {
    float acc = 0;
    for (int64_t b = 0; b < n / CK_QK; b++) {
        const ck_block_q8a *xb = &x[b];
        int dot = 0;
        switch (type) {
        case CK_TYPE_Q8_0: {
            const ck_block_q8_0 *wb = (const ck_block_q8_0 *)w + b;
            for (int j = 0; j < CK_QK; j++) dot += wb->qs[j] * xb->qs[j];
            acc += ck_fp16_to_fp32(wb->d) * xb->d * (float)dot;
            break;
        }
        case CK_TYPE_Q4_0: {
            const ck_block_q4_0 *wb = (const ck_block_q4_0 *)w + b;
            for (int j = 0; j < CK_QK / 2; j++) {
                dot += (wb->qs[j] & 0x0f) * xb->qs[j] + (wb->qs[j] >> 4) * xb->qs[j + 16];
            }
            float dw = ck_fp16_to_fp32(wb->d);
            acc += dw * xb->d * (float)dot - 8.0f * dw * xb->s;
            break;
        }
        case CK_TYPE_Q5_0: {
            const ck_block_q5_0 *wb = (const ck_block_q5_0 *)w + b;
            uint32_t qh = (uint32_t)wb->qh[0] | (uint32_t)wb->qh[1] << 8 | (uint32_t)wb->qh[2] << 16 | (uint32_t)wb->qh[3] << 24;
            for (int j = 0; j < CK_QK / 2; j++) {
                int lo = (wb->qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
                int hi = (wb->qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
                dot += lo * xb->qs[j] + hi * xb->qs[j + 16];
            }
            float dw = ck_fp16_to_fp32(wb->d);
            acc += dw * xb->d * (float)dot - 16.0f * dw * xb->s;
            break;
        }
        case CK_TYPE_Q4_1: {
            const ck_block_q4_1 *wb = (const ck_block_q4_1 *)w + b;
            for (int j = 0; j < CK_QK / 2; j++) {
                dot += (wb->qs[j] & 0x0f) * xb->qs[j] + (wb->qs[j] >> 4) * xb->qs[j + 16];
            }
            acc += ck_fp16_to_fp32(wb->d) * xb->d * (float)dot + ck_fp16_to_fp32(wb->m) * xb->s;
            break;
        }
        default: return NAN;
        }
    }
    return acc;
}

int ck_has_q8a_kernel(int type) {
    return type == CK_TYPE_Q4_0 || type == CK_TYPE_Q4_1 || type == CK_TYPE_Q8_0 || type == CK_TYPE_Q5_0;
}

// Types without an integer kernel: float dot of the dequantized weights with the dequantized
// activations (d * q), one weight block (or 32 floats) at a time. Same result for every ISA.
static float dot_q8a_float(int type, const void *w, const ck_block_q8a *x, int64_t n) {
    int be = ck_block_elems(type);
    if (be == 0 || n % CK_QK != 0 || n % be != 0) return NAN;
    int chunk = be == CK_QKK ? CK_QKK : CK_QK;
    size_t chunk_bytes = ck_row_bytes(type, chunk);
    float wf[CK_QKK];
    float acc = 0;
    for (int64_t c = 0; c < n / chunk; c++) {
        ck_dequantize_row_scalar(type, (const uint8_t *)w + (size_t)c * chunk_bytes, wf, chunk);
        for (int j = 0; j < chunk; j++) {
            const ck_block_q8a *xb = &x[(c * chunk + j) / CK_QK];
            acc += wf[j] * (xb->d * (float)xb->qs[j % CK_QK]);
        }
    }
    return acc;
}

float ck_dot_q8a_scalar(int type, const void *w, const ck_block_q8a *x, int64_t n) {
    if (!ck_has_q8a_kernel(type)) return dot_q8a_float(type, w, x, n);
    return dot_q8a_scalar(type, w, x, n);
}

#define CK_Q8A_SCALAR_ROWS(name, type)                                                         \
    static void name(const void *W, size_t rb, int r0, int r1, int cols, const ck_block_q8a *Xq, \
                     int ntok, float *Y, int ldy) {                                              \
        int nb = cols / CK_QK;                                                                   \
        for (int r = r0; r < r1; r++)                                                            \
            for (int t = 0; t < ntok; t++)                                                       \
                Y[(size_t)t * ldy + r] = dot_q8a_scalar(type, (const uint8_t *)W + (size_t)r * rb, \
                                                        Xq + (size_t)t * nb, cols);              \
    }
CK_Q8A_SCALAR_ROWS(rows_q8a_scalar_q8_0, CK_TYPE_Q8_0)
CK_Q8A_SCALAR_ROWS(rows_q8a_scalar_q4_0, CK_TYPE_Q4_0)
CK_Q8A_SCALAR_ROWS(rows_q8a_scalar_q4_1, CK_TYPE_Q4_1)
CK_Q8A_SCALAR_ROWS(rows_q8a_scalar_q5_0, CK_TYPE_Q5_0)

ck_rows_q8a_fn ck_rows_q8a_scalar(int type) {
    switch (type) {
    case CK_TYPE_Q8_0: return rows_q8a_scalar_q8_0;
    case CK_TYPE_Q4_0: return rows_q8a_scalar_q4_0;
    case CK_TYPE_Q4_1: return rows_q8a_scalar_q4_1;
    case CK_TYPE_Q5_0: return rows_q8a_scalar_q5_0;
    default: return NULL;
    }
}

float ck_dot_q8a(int type, const void *w, const ck_block_q8a *x, int64_t n) {
    if (!ck_has_q8a_kernel(type)) return dot_q8a_float(type, w, x, n);
    ck_rows_q8a_fn fn = ck_isa_active() == CK_ISA_AVX2 ? ck_rows_q8a_avx2(type) : ck_rows_q8a_scalar(type);
    float y = NAN;
    if (fn) fn(w, ck_row_bytes(type, n), 0, 1, (int)n, x, 1, &y, 1);
    return y;
}
