// Batch GEMM microbenchmark: the panel GEMM against dequantize + OpenBLAS sgemm on one random Q4_1
// matrix, 2 threads, best-effort wall time per call. Built and run by scripts/bench_gemm.sh.
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
    float *row = malloc(sizeof(float) * cols);
    float *X = malloc(sizeof(float) * ntok * cols), *Y1 = malloc(sizeof(float) * ntok * rows), *Y2 = malloc(sizeof(float) * ntok * rows);
    srand(1);
    for (int r = 0; r < rows; r++) {
        for (int k = 0; k < cols; k++) row[k] = rand() / (float)RAND_MAX - 0.5f;
        ck_quantize_row(type, row, W + rb * r, cols);
    }
    for (int i = 0; i < ntok * cols; i++) X[i] = rand() / (float)RAND_MAX - 0.5f;
    ck_pool *pool = ck_pool_create(2);
    ck_set_int8_max_tokens(0);
    ck_set_gemm_threshold(1);
    double best[2] = {1e30, 1e30}, maxdiff = 0;
    for (int round = 0; round < 3; round++) {
        for (int g = 0; g < 2; g++) {
            ck_set_batch_gemm(g == 0 ? CK_GEMM_OPENBLAS : CK_GEMM_PANEL);
            double t0 = now();
            for (int i = 0; i < reps; i++) ck_matmul(pool, type, W, rb, rows, cols, X, ntok, g == 0 ? Y1 : Y2, rows);
            double t = (now() - t0) / reps;
            if (t < best[g]) best[g] = t;
        }
    }
    for (int i = 0; i < ntok * rows; i++) maxdiff = fmax(maxdiff, fabs(Y1[i] - Y2[i]));
    double gflop = 2.0 * rows * cols * ntok / 1e9;
    printf("%dx%d, %d tokens: openblas %.3f ms (%.1f GFLOP/s), panel %.3f ms (%.1f GFLOP/s), max difference %.1e\n",
           rows, cols, ntok, best[0] * 1e3, gflop / best[0], best[1] * 1e3, gflop / best[1], maxdiff);
    return 0;
}
