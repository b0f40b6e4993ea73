// Causal multi-head attention with grouped KV heads over a float KV cache.
#include "ckernels.h"

#include <math.h>

typedef struct {
    ck_pool *pool;
    const float *q;
    int ntok, nheads, nkv, head_dim;
    const float *k, *v;
    int kv_stride, pos0;
    float *out;
} ck_attn_job;

static void ck_attn_task(void *raw, int task, int thread) {
    const ck_attn_job *j = raw;
    int t = task / j->nheads;
    int h = task % j->nheads;
    int hd = j->head_dim;
    int kvh = h / (j->nheads / j->nkv);
    int pos = j->pos0 + t;
    const float *q = j->q + (size_t)t * j->nheads * hd + (size_t)h * hd;
    float *o = j->out + (size_t)t * j->nheads * hd + (size_t)h * hd;
    float *scores = ck_pool_scratch(j->pool, thread, (size_t)pos + 1);
    float scale = 1.0f / sqrtf((float)hd);
    float maxs = -INFINITY;
    for (int p = 0; p <= pos; p++) {
        const float *k = j->k + (size_t)p * j->kv_stride + (size_t)kvh * hd;
        float s = 0;
        for (int i = 0; i < hd; i++) s += q[i] * k[i];
        s *= scale;
        scores[p] = s;
        if (s > maxs) maxs = s;
    }
    float sum = 0;
    for (int p = 0; p <= pos; p++) {
        scores[p] = expf(scores[p] - maxs);
        sum += scores[p];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < hd; i++) o[i] = 0;
    for (int p = 0; p <= pos; p++) {
        const float *v = j->v + (size_t)p * j->kv_stride + (size_t)kvh * hd;
        float w = scores[p] * inv;
        for (int i = 0; i < hd; i++) o[i] += w * v[i];
    }
}

void ck_attention(ck_pool *pool, const float *q, int ntok, int nheads, int nkv, int head_dim,
                  const float *kcache, const float *vcache, int kv_stride, int pos0, float *out) {
    ck_attn_job job = {
        .pool = pool, .q = q, .ntok = ntok, .nheads = nheads, .nkv = nkv, .head_dim = head_dim,
        .k = kcache, .v = vcache, .kv_stride = kv_stride, .pos0 = pos0, .out = out,
    };
    ck_pool_run(pool, ck_attn_task, &job, ntok * nheads);
}
