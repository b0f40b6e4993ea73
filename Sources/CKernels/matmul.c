// Matrix multiplication over quantized weights, split across the worker pool.
#include "quant_internal.h"

#include <cblas.h>
#include <pthread.h>

void openblas_set_num_threads(int);

static int ck_gemm_threshold = 8;
void ck_set_gemm_threshold(int ntok) { ck_gemm_threshold = ntok < 2 ? 2 : ntok; }
static int ck_batch_gemm = CK_GEMM_PANEL;
void ck_set_batch_gemm(int kind) { ck_batch_gemm = kind == CK_GEMM_OPENBLAS ? CK_GEMM_OPENBLAS : CK_GEMM_PANEL; }
int ck_get_batch_gemm(void) { return ck_batch_gemm; }
static int ck_int8_tokens = 16;
void ck_set_int8_max_tokens(int ntok) { ck_int8_tokens = ntok < 0 ? 0 : ntok; }
int ck_int8_max_tokens(void) { return ck_int8_tokens; }

typedef struct {
    ck_pool *pool;
    ck_rows_fn fn;
    int type;
    const void *W;
    size_t row_bytes;
    int rows, cols;
    const float *X;
    int ntok;
    float *Y;
    int ldy;
    int rows_per_task;
    ck_rows_q8a_fn qfn;
    const ck_block_q8a *Xq;
} ck_matmul_job;

// Rows [*r0, *r1) of task `task`.
static inline void ck_task_rows(const ck_matmul_job *j, int task, int *r0, int *r1) {
    *r0 = task * j->rows_per_task;
    *r1 = *r0 + j->rows_per_task;
    if (*r1 > j->rows) *r1 = j->rows;
}

// Rows kernel task: the 8-bit kernel on quantized activations when the job has one, else float.
static void ck_matmul_task(void *raw, int task, int thread) {
    (void)thread;
    const ck_matmul_job *j = raw;
    int r0, r1;
    ck_task_rows(j, task, &r0, &r1);
    if (j->qfn) j->qfn(j->W, j->row_bytes, r0, r1, j->cols, j->Xq, j->ntok, j->Y, j->ldy);
    else j->fn(j->W, j->row_bytes, r0, r1, j->cols, j->X, j->ntok, j->Y, j->ldy);
}

// Dequantize a chunk of rows into per-thread scratch, then one single-threaded sgemm:
// Y[:, r0:r1] = X (ntok x cols) * Wchunk^T (cols x n).
static void ck_gemm_task(void *raw, int task, int thread) {
    const ck_matmul_job *j = raw;
    int r0, r1;
    ck_task_rows(j, task, &r0, &r1);
    int n = r1 - r0;
    float *w = ck_pool_scratch(j->pool, thread, (size_t)j->rows_per_task * j->cols);
    for (int r = 0; r < n; r++)
        ck_dequantize_row(j->type, (const uint8_t *)j->W + (size_t)(r0 + r) * j->row_bytes,
                          w + (size_t)r * j->cols, j->cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->ntok, n, j->cols, 1.0f, j->X, j->cols,
                w, j->cols, 0.0f, j->Y + r0, j->ldy);
}

static pthread_once_t ck_blas_once = PTHREAD_ONCE_INIT;
static void ck_blas_single_thread(void) { openblas_set_num_threads(1); }

void ck_matmul(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
               const float *X, int ntok, float *Y, int ldy) {
    ck_matmul_ex(pool, type, W, row_bytes, rows, cols, X, ntok, Y, ldy, -1);
}

void ck_matmul_ex(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                  const float *X, int ntok, float *Y, int ldy, int int8_max_tokens) {
    int int8_limit = int8_max_tokens < 0 ? ck_int8_tokens : int8_max_tokens;
    ck_matmul_job job = {
        .pool = pool, .type = type, .W = W, .row_bytes = row_bytes, .rows = rows, .cols = cols,
        .X = X, .ntok = ntok, .Y = Y, .ldy = ldy,
    };
    int threads = ck_pool_threads(pool);
    int avx2 = ck_isa_active() == CK_ISA_AVX2;
    // About eight tasks per thread for balance, never fewer than 8 rows per task (even, so the
    // two-row kernels keep their pairs).
    int per = rows / (threads * 8);
    if (per < 8) per = 8;
    per = (per + 1) & ~1;
    job.rows_per_task = per;
    // 8-bit activations only where an integer kernel exists: the panel GEMM for Q4_0/Q4_1 batches of
    // CK_Q8P_MIN_TOKENS+ (AVX2), the row kernels (Q4_0, Q4_1, Q5_0, Q8_0) up to the 8-bit limit; every
    // other case (Q4_K, Q6_K, float, larger Q8_0/Q5_0 batches) takes the float paths below.
    if (int8_limit != 0 && ntok >= CK_Q8P_MIN_TOKENS &&
        ck_gemm_panel_q8(pool, type, W, row_bytes, rows, cols, X, ntok, Y, ldy))
        return;
    if (ntok <= int8_limit && cols % 32 == 0 && ck_has_q8a_kernel(type)) {
        ck_block_q8a *xq = ck_pool_activation_buffer(pool, (size_t)ntok * (cols / 32));
        for (int t = 0; t < ntok; t++) ck_quantize_q8a(X + (size_t)t * cols, xq + (size_t)t * (cols / 32), cols);
        job.Xq = xq;
        job.qfn = !avx2 ? ck_rows_q8a_scalar(type) : ntok > 1 ? ck_rows_q8a_avx2_multi(type) : ck_rows_q8a_avx2(type);
        ck_pool_run(pool, ck_matmul_task, &job, (rows + per - 1) / per);
        return;
    }
    if (ntok >= ck_gemm_threshold) {
        if (ck_batch_gemm == CK_GEMM_PANEL) {
            ck_gemm_panel(pool, type, W, row_bytes, rows, cols, X, ntok, Y, ldy);
            return;
        }
        pthread_once(&ck_blas_once, ck_blas_single_thread);
        job.rows_per_task = 64;
        int ntasks = (rows + 63) / 64;
        ck_pool_run(pool, ck_gemm_task, &job, ntasks);
        return;
    }
    job.fn = avx2 ? ck_rows_avx2(type) : ck_rows_scalar(type);
    if (!job.fn) return;
    ck_pool_run(pool, ck_matmul_task, &job, (rows + per - 1) / per);
}
