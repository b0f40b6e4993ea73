// Batch GEMM microbenchmark: the float panel GEMM and the integer (8-bit activation) panel GEMM
// against dequantize + OpenBLAS sgemm on one random Q4_1 matrix, 2 threads, best-of-3 wall time per call. Built and run by scripts/bench_gemm.sh.
#include "ckernels.h"
#include "quant_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_gemm ROWS COLS TOKENS REPETITIONS\n");
        return 2;
    }
    int rows = atoi(argv[1]), cols = atoi(argv[2]), ntok = atoi(argv[3]), reps = atoi(argv[4]);
    if (rows < 1 || cols < 32 || cols % 32 || ntok < 1 || reps < 1) {
        fprintf(stderr, "bench_gemm: ROWS >= 1, COLS a multiple of 32, TOKENS >= 1, REPETITIONS >= 1\n");
        return 2;
    }
    int type = CK_TYPE_Q4_1;
    size_t rb = ck_row_bytes(type, cols);
    unsigned char *W = malloc(rb * rows);
    float *X = malloc(sizeof(float) * ntok * cols), *Y[3];
    for (int g = 0; g < 3; g++) Y[g] = malloc(sizeof(float) * ntok * rows);
    srand(1);
    // Random Q4_1 blocks (ck_quantize_row writes Q8_0/Q4_0 only): scale ~1/16, minimum ~-0.5.
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 32; b++) {
            ck_block_q4_1 *blk = (ck_block_q4_1 *)(W + rb * r) + b;
            blk->d = ck_fp32_to_fp16((0.5f + rand() / (float)RAND_MAX) / 16);
            blk->m = ck_fp32_to_fp16(-0.5f * (0.5f + rand() / (float)RAND_MAX));
            for (int i = 0; i < 16; i++) blk->qs[i] = (uint8_t)rand();
        }
    for (int i = 0; i < ntok * cols; i++) X[i] = rand() / (float)RAND_MAX - 0.5f;
    ck_pool *pool = ck_pool_create(2);
    ck_set_gemm_threshold(1);
    // Float activations for OpenBLAS and the float panel (8-bit limit 0), 8-bit for the integer panel.
    const int kinds[3] = {CK_GEMM_OPENBLAS, CK_GEMM_PANEL, CK_GEMM_PANEL};
    double best[3] = {1e30, 1e30, 1e30}, maxdiff[3] = {0, 0, 0}, maxabs = 0;
    for (int round = 0; round < 3; round++) {
        for (int g = 0; g < 3; g++) {
            ck_set_batch_gemm(kinds[g]);
            double t0 = now();
            for (int i = 0; i < reps; i++) ck_matmul_ex(pool, type, W, rb, rows, cols, X, ntok, Y[g], rows, g == 2 ? 1 : 0);
            double t = (now() - t0) / reps;
            if (t < best[g]) best[g] = t;
        }
    }
    for (int i = 0; i < ntok * rows; i++) {
        maxabs = fmax(maxabs, fabs(Y[0][i]));
        for (int g = 1; g < 3; g++) maxdiff[g] = fmax(maxdiff[g], fabs(Y[0][i] - Y[g][i]));
    }
    double gflop = 2.0 * rows * cols * ntok / 1e9;
    printf("%dx%d, %d tokens: openblas %.3f ms (%.0f GFLOP/s), panel %.3f ms (%.0f GFLOP/s, max diff %.1e), "
           "int8 panel %.3f ms (%.0f GOP/s, max diff %.1e of max %.1f)\n",
           rows, cols, ntok, best[0] * 1e3, gflop / best[0], best[1] * 1e3, gflop / best[1], maxdiff[1],
           best[2] * 1e3, gflop / best[2], maxdiff[2], maxabs);
    return 0;
}
