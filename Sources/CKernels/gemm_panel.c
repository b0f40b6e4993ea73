// Panel GEMM for batches over quantized weights: Y[t, r] = sum_k X[t, k] * W[r, k].
//
// The activations are transposed once per call (XT[k][t], tokens padded to 16). Each task takes a
// range of weight rows; six rows at a time are dequantized into per-thread scratch (L1/L2), and a
// 6x16 register-blocked micro-kernel runs them against every 16-token strip of XT, accumulating the
// whole K in registers. No packing of the weights, no copy of them in float beyond six rows, and no
// C scaling pass: what OpenBLAS sgemm spent ~20 % of a 64-sequence decode step on.
#include "quant_internal.h"
#include "simd_avx2.h"

#include <string.h>

#define CK_PANEL_ROWS 6
#define CK_PANEL_TOKENS 16

typedef void (*ck_panel_kernel)(const float *w, int ldw, const float *xt, int ldx, int K, float *tile);

// Reference micro-kernel: tile[r * 16 + i] = sum_k w[r * ldw + k] * xt[k * ldx + i].
static void ck_panel_kernel_scalar(const float *w, int ldw, const float *xt, int ldx, int K, float *tile) {
    for (int r = 0; r < CK_PANEL_ROWS; r++)
        for (int i = 0; i < CK_PANEL_TOKENS; i++) {
            float acc = 0;
            for (int k = 0; k < K; k++) acc += w[(size_t)r * ldw + k] * xt[(size_t)k * ldx + i];
            tile[r * CK_PANEL_TOKENS + i] = acc;
        }
}

#if defined(__x86_64__)
static CK_AVX2 void ck_panel_kernel_avx2(const float *w, int ldw, const float *xt, int ldx, int K, float *tile) {
    const float *w0 = w, *w1 = w + ldw, *w2 = w + 2 * (size_t)ldw, *w3 = w + 3 * (size_t)ldw;
    const float *w4 = w + 4 * (size_t)ldw, *w5 = w + 5 * (size_t)ldw;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < K; k++) {
        const float *x = xt + (size_t)k * ldx;
        __m256 b0 = _mm256_load_ps(x), b1 = _mm256_load_ps(x + 8), a;
        a = _mm256_broadcast_ss(w0 + k); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(w1 + k); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(w2 + k); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(w3 + k); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(w4 + k); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(w5 + k); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    }
    _mm256_storeu_ps(tile + 0, c00);  _mm256_storeu_ps(tile + 8, c01);
    _mm256_storeu_ps(tile + 16, c10); _mm256_storeu_ps(tile + 24, c11);
    _mm256_storeu_ps(tile + 32, c20); _mm256_storeu_ps(tile + 40, c21);
    _mm256_storeu_ps(tile + 48, c30); _mm256_storeu_ps(tile + 56, c31);
    _mm256_storeu_ps(tile + 64, c40); _mm256_storeu_ps(tile + 72, c41);
    _mm256_storeu_ps(tile + 80, c50); _mm256_storeu_ps(tile + 88, c51);
}
#endif

typedef struct {
    ck_pool *pool;
    int type;
    const void *W;
    size_t row_bytes;
    int rows, cols, ntok, ldx, ldy;
    const float *X;
    float *XT;
    float *Y;
    int rows_per_task, cols_per_transpose_task;
    ck_panel_kernel kernel;
} ck_panel_job;

// XT[k * ldx + t] = X[t * cols + k] for this task's range of k; pad tokens are zero.
static void ck_panel_transpose_task(void *raw, int task, int thread) {
    (void)thread;
    const ck_panel_job *j = raw;
    int k0 = task * j->cols_per_transpose_task, k1 = k0 + j->cols_per_transpose_task;
    if (k1 > j->cols) k1 = j->cols;
    for (int k = k0; k < k1; k++) {
        float *dst = j->XT + (size_t)k * j->ldx;
        for (int t = 0; t < j->ntok; t++) dst[t] = j->X[(size_t)t * j->cols + k];
        for (int t = j->ntok; t < j->ldx; t++) dst[t] = 0;
    }
}

static void ck_panel_task(void *raw, int task, int thread) {
    const ck_panel_job *j = raw;
    int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->rows) r1 = j->rows;
    float *w = ck_pool_scratch(j->pool, thread, (size_t)CK_PANEL_ROWS * j->cols + CK_PANEL_ROWS * CK_PANEL_TOKENS);
    float *tile = w + (size_t)CK_PANEL_ROWS * j->cols;
    for (int g = r0; g < r1; g += CK_PANEL_ROWS) {
        int nr = r1 - g < CK_PANEL_ROWS ? r1 - g : CK_PANEL_ROWS;
        for (int r = 0; r < nr; r++)
            ck_dequantize_row(j->type, (const uint8_t *)j->W + (size_t)(g + r) * j->row_bytes, w + (size_t)r * j->cols, j->cols);
        if (nr < CK_PANEL_ROWS) memset(w + (size_t)nr * j->cols, 0, sizeof(float) * (size_t)(CK_PANEL_ROWS - nr) * j->cols);
        for (int t0 = 0; t0 < j->ntok; t0 += CK_PANEL_TOKENS) {
            j->kernel(w, j->cols, j->XT + t0, j->ldx, j->cols, tile);
            int nt = j->ntok - t0 < CK_PANEL_TOKENS ? j->ntok - t0 : CK_PANEL_TOKENS;
            for (int i = 0; i < nt; i++) {
                float *y = j->Y + (size_t)(t0 + i) * j->ldy + g;
                for (int r = 0; r < nr; r++) y[r] = tile[r * CK_PANEL_TOKENS + i];
            }
        }
    }
}

void ck_gemm_panel(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                   const float *X, int ntok, float *Y, int ldy) {
    int ldx = (ntok + CK_PANEL_TOKENS - 1) / CK_PANEL_TOKENS * CK_PANEL_TOKENS;
    ck_panel_job job = {
        .pool = pool, .type = type, .W = W, .row_bytes = row_bytes, .rows = rows, .cols = cols, .ntok = ntok,
        .ldx = ldx, .ldy = ldy, .X = X, .Y = Y,
        .XT = ck_pool_shared_floats(pool, (size_t)cols * ldx),
        .kernel = ck_panel_kernel_scalar,
    };
#if defined(__x86_64__)
    if (ck_isa_active() == CK_ISA_AVX2) job.kernel = ck_panel_kernel_avx2;
#endif
    int threads = ck_pool_threads(pool);
    job.cols_per_transpose_task = (cols + threads * 4 - 1) / (threads * 4);
    ck_pool_run(pool, ck_panel_transpose_task, &job, (cols + job.cols_per_transpose_task - 1) / job.cols_per_transpose_task);
    // About eight tasks per thread, in whole six-row groups.
    int per = rows / (threads * 8);
    per = (per + CK_PANEL_ROWS - 1) / CK_PANEL_ROWS * CK_PANEL_ROWS;
    if (per < CK_PANEL_ROWS * 4) per = CK_PANEL_ROWS * 4;
    job.rows_per_task = per;
    ck_pool_run(pool, ck_panel_task, &job, (rows + per - 1) / per);
}
