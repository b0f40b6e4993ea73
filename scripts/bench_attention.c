// Batched decode attention microbenchmark on the default model's shapes (9 query heads, 3 KV heads,
// head_dim 64): SEQS sequences, one query token each, CONTEXT cached positions, paged in 16-position
// blocks scattered over the cache; 2 threads, best-of-3 wall time per call. Built and run by
// scripts/bench_attention.sh.
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_attention SEQS CONTEXT REPETITIONS\n");
        return 2;
    }
    int seqs = atoi(argv[1]), ctx = atoi(argv[2]), reps = atoi(argv[3]);
    if (seqs < 1 || ctx < 1 || reps < 1) {
        fprintf(stderr, "bench_attention: SEQS, CONTEXT and REPETITIONS must be >= 1\n");
        return 2;
    }
    const int heads = 9, kvh = 3, hd = 64, bs = 16, stride = kvh * hd;
    int per = (ctx + bs - 1) / bs, nblocks = seqs * per;
    float *k = malloc(sizeof(float) * (size_t)nblocks * bs * stride), *v = malloc(sizeof(float) * (size_t)nblocks * bs * stride);
    float *q = malloc(sizeof(float) * (size_t)seqs * heads * hd), *out = malloc(sizeof(float) * (size_t)seqs * heads * hd);
    int32_t *table = malloc(sizeof(int32_t) * nblocks);
    srand(1);
    for (size_t i = 0; i < (size_t)nblocks * bs * stride; i++) { k[i] = rand() / (float)RAND_MAX - 0.5f; v[i] = rand() / (float)RAND_MAX - 0.5f; }
    for (int i = 0; i < seqs * heads * hd; i++) q[i] = rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < nblocks; i++) table[i] = i;
    for (int i = nblocks - 1; i > 0; i--) { int j = rand() % (i + 1), t = table[i]; table[i] = table[j]; table[j] = t; }
    ck_attn_segment *segs = malloc(sizeof(ck_attn_segment) * seqs);
    for (int s = 0; s < seqs; s++)
        segs[s] = (ck_attn_segment){ .k = k, .v = v, .pos0 = ctx - 1, .ntok = 1, .tok_offset = s,
                                     .blocks = table + s * per, .block_size = bs, .window = 0 };
    ck_pool *pool = ck_pool_create(2);
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) ck_attention_batch(pool, q, segs, seqs, heads, kvh, hd, stride, out);
        double t = (now() - t0) / reps;
        if (t < best) best = t;
    }
    double checksum = 0;
    for (int i = 0; i < seqs * heads * hd; i++) checksum += out[i];
    printf("%d sequences x %d positions: %.1f us per call (%.2f ns per position and KV head), checksum %.6f\n",
           seqs, ctx, best * 1e6, best * 1e9 / ((double)seqs * ctx * kvh), checksum);
    return 0;
}
