// Panel GEMM for batches over quantized weights: Y[t, r] = sum_k X[t, k] * W[r, k].
//
// The activations are transposed once per call into 16-token strips (XT[strip][k][16], tokens
// padded to 16). Each task takes a
// range of weight rows, dequantizes them into per-thread scratch (L2), and runs a 6x16
// register-blocked micro-kernel over six rows and a 16-token strip of XT at a time, accumulating the
// whole K in registers; tokens go in blocks that keep their slice of XT in L2 too. No packing of the weights, no copy of them in float beyond six rows, and no
// C scaling pass: what OpenBLAS sgemm spent ~20 % of a 64-sequence decode step on.
#include "quant_internal.h"
#include "simd_avx2.h"

#include <string.h>

#define CK_PANEL_ROWS 6
#define CK_PANEL_TOKENS 16

// A micro-kernel computes the 6x16 tile sum_k w[r * ldw + k] * xt[k * ldx + i] and stores it either
// straight into the output, y[i * ldy + r] (y non-NULL: a whole tile), or into tile[r * 16 + i].
typedef void (*ck_panel_kernel)(const float *w, int ldw, const float *xt, int ldx, int K, float *tile,
                                float *y, int ldy);

// Reference micro-kernel.
static void ck_panel_kernel_scalar(const float *w, int ldw, const float *xt, int ldx, int K, float *tile,
                                   float *y, int ldy) {
    for (int r = 0; r < CK_PANEL_ROWS; r++)
        for (int i = 0; i < CK_PANEL_TOKENS; i++) {
            float acc = 0;
            for (int k = 0; k < K; k++) acc += w[(size_t)r * ldw + k] * xt[(size_t)k * ldx + i];
            if (y) y[(size_t)i * ldy + r] = acc;
            else tile[r * CK_PANEL_TOKENS + i] = acc;
        }
}

#if defined(__x86_64__)
// Stores eight tokens of a tile whose six rows are in r0..r5: an 8x8 register transpose (two zero
// rows), then four plus two floats per token at y[i * ldy].
static inline CK_AVX2 void ck_panel_store8(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5,
                                           float *y, int ldy) {
    __m256 r[8] = {r0, r1, r2, r3, r4, r5, _mm256_setzero_ps(), _mm256_setzero_ps()};
    ck_transpose8x8(r);
    for (int i = 0; i < 8; i++) {
        _mm_storeu_ps(y + (size_t)i * ldy, _mm256_castps256_ps128(r[i]));
        _mm_storel_pi((__m64 *)(y + (size_t)i * ldy + 4), _mm256_extractf128_ps(r[i], 1));
    }
}

static CK_AVX2 void ck_panel_kernel_avx2(const float *w, int ldw, const float *xt, int ldx, int K, float *tile,
                                         float *y, int ldy) {
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
    if (y) {
        ck_panel_store8(c00, c10, c20, c30, c40, c50, y, ldy);
        ck_panel_store8(c01, c11, c21, c31, c41, c51, y + 8 * (size_t)ldy, ldy);
        return;
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
    int rows_per_task, cols_per_transpose_task, tokens_per_block;
    ck_panel_kernel kernel;
} ck_panel_job;

#if defined(__x86_64__)
// Transposes an 8x8 block: rows src[t * lds + 0..7] for t < 8 land as dst[k * CK_PANEL_TOKENS + 0..7].
static inline CK_AVX2 void ck_transpose8(const float *src, size_t lds, float *dst) {
    __m256 r[8];
    for (int t = 0; t < 8; t++) r[t] = _mm256_loadu_ps(src + t * lds);
    ck_transpose8x8(r);
    for (int k = 0; k < 8; k++) _mm256_store_ps(dst + k * CK_PANEL_TOKENS, r[k]);
}
#endif

// Strip-major transpose for this task's range of k: strip s (tokens 16s..16s+15) is a contiguous
// [cols][16] block, XT[s][k][i] = X[16s + i][k]; pad tokens are zero. With AVX2, whole groups of
// eight tokens and eight k go through 8x8 register transposes; the rest element by element.
static void ck_panel_transpose_task(void *raw, int task, int thread) {
    (void)thread;
    const ck_panel_job *j = raw;
    int k0 = task * j->cols_per_transpose_task, k1 = k0 + j->cols_per_transpose_task;
    if (k1 > j->cols) k1 = j->cols;
    int t = 0;
#if defined(__x86_64__)
    if (ck_isa_active() == CK_ISA_AVX2) {
        int k8 = k0 + (k1 - k0) / 8 * 8;
        for (; t + 8 <= j->ntok; t += 8) {
            float *dst = j->XT + (size_t)(t / CK_PANEL_TOKENS) * j->cols * CK_PANEL_TOKENS + t % CK_PANEL_TOKENS;
            const float *src = j->X + (size_t)t * j->cols;
            for (int k = k0; k < k8; k += 8) ck_transpose8(src + k, (size_t)j->cols, dst + (size_t)k * CK_PANEL_TOKENS);
            for (int i = 0; i < 8; i++)
                for (int k = k8; k < k1; k++) dst[(size_t)k * CK_PANEL_TOKENS + i] = src[(size_t)i * j->cols + k];
        }
    }
#endif
    for (; t < j->ldx; t++) {
        float *dst = j->XT + (size_t)(t / CK_PANEL_TOKENS) * j->cols * CK_PANEL_TOKENS + t % CK_PANEL_TOKENS;
        if (t < j->ntok) {
            const float *src = j->X + (size_t)t * j->cols;
            for (int k = k0; k < k1; k++) dst[(size_t)k * CK_PANEL_TOKENS] = src[k];
        } else {
            for (int k = k0; k < k1; k++) dst[(size_t)k * CK_PANEL_TOKENS] = 0;
        }
    }
}

// A task's rows are dequantized once into scratch (at most ~128 KB), then run against the tokens
// in blocks whose slice of XT stays in L2 (~192 KB) beside them, six rows by sixteen tokens a tile.
static void ck_panel_task(void *raw, int task, int thread) {
    const ck_panel_job *j = raw;
    int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->rows) r1 = j->rows;
    int n = r1 - r0, groups = (n + CK_PANEL_ROWS - 1) / CK_PANEL_ROWS;
    float *w = ck_pool_scratch(j->pool, thread, (size_t)groups * CK_PANEL_ROWS * j->cols + CK_PANEL_ROWS * CK_PANEL_TOKENS);
    float *tile = w + (size_t)groups * CK_PANEL_ROWS * j->cols;
    for (int r = 0; r < n; r++)
        ck_dequantize_row(j->type, (const uint8_t *)j->W + (size_t)(r0 + r) * j->row_bytes, w + (size_t)r * j->cols, j->cols);
    if (n < groups * CK_PANEL_ROWS) memset(w + (size_t)n * j->cols, 0, sizeof(float) * (size_t)(groups * CK_PANEL_ROWS - n) * j->cols);
    for (int tb = 0; tb < j->ntok; tb += j->tokens_per_block) {
        int te = tb + j->tokens_per_block < j->ntok ? tb + j->tokens_per_block : j->ntok;
        for (int g = 0; g < groups; g++) {
            const float *wg = w + (size_t)g * CK_PANEL_ROWS * j->cols;
            int nr = n - g * CK_PANEL_ROWS < CK_PANEL_ROWS ? n - g * CK_PANEL_ROWS : CK_PANEL_ROWS;
            for (int t0 = tb; t0 < te; t0 += CK_PANEL_TOKENS) {
                int nt = te - t0 < CK_PANEL_TOKENS ? te - t0 : CK_PANEL_TOKENS;
                float *y = j->Y + (size_t)t0 * j->ldy + r0 + g * CK_PANEL_ROWS;
                const float *xt = j->XT + (size_t)t0 * j->cols;
                if (nr == CK_PANEL_ROWS && nt == CK_PANEL_TOKENS) {
                    j->kernel(wg, j->cols, xt, CK_PANEL_TOKENS, j->cols, tile, y, j->ldy);  // whole tile, stored directly
                } else {
                    j->kernel(wg, j->cols, xt, CK_PANEL_TOKENS, j->cols, tile, NULL, 0);
                    for (int i = 0; i < nt; i++, y += j->ldy)
                        for (int r = 0; r < nr; r++) y[r] = tile[r * CK_PANEL_TOKENS + i];
                }
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
    job.cols_per_transpose_task = ((cols + threads * 4 - 1) / (threads * 4) + 7) / 8 * 8;
    ck_pool_run(pool, ck_panel_transpose_task, &job, (cols + job.cols_per_transpose_task - 1) / job.cols_per_transpose_task);
    // About eight tasks per thread, in whole six-row groups, with at most ~128 KB of dequantized rows.
    int per = rows / (threads * 8);
    int cap = (int)((128 << 10) / (sizeof(float) * (size_t)cols));
    if (per > cap) per = cap;
    per = (per + CK_PANEL_ROWS - 1) / CK_PANEL_ROWS * CK_PANEL_ROWS;
    if (per < CK_PANEL_ROWS) per = CK_PANEL_ROWS;
    job.rows_per_task = per;
    // Token blocks whose strips of XT take at most ~192 KB.
    int tpb = (int)((192 << 10) / (sizeof(float) * (size_t)cols)) / CK_PANEL_TOKENS * CK_PANEL_TOKENS;
    job.tokens_per_block = tpb < CK_PANEL_TOKENS ? CK_PANEL_TOKENS : tpb;
    ck_pool_run(pool, ck_panel_task, &job, (rows + per - 1) / per);
}
