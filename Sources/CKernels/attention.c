// Causal multi-head attention with grouped KV heads over a float KV cache.
#include "ckernels.h"

#include <math.h>
#if defined(__x86_64__)
#include "simd_avx2.h"

// q.k over n floats (n a multiple of 16).
static CK_AVX2 float dot_avx2(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (int i = 0; i < n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    return ck_hsum8(_mm256_add_ps(s0, s1));
}

// o += w * v over n floats (n a multiple of 8).
static CK_AVX2 void axpy_avx2(float *o, float w, const float *v, int n) {
    __m256 wv = _mm256_set1_ps(w);
    for (int i = 0; i < n; i += 8)
        _mm256_storeu_ps(o + i, _mm256_fmadd_ps(wv, _mm256_loadu_ps(v + i), _mm256_loadu_ps(o + i)));
}
#endif

static float dot_scalar(const float *a, const float *b, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy_scalar(float *o, float w, const float *v, int n) {
    for (int i = 0; i < n; i++) o[i] += w * v[i];
}

typedef struct {
    ck_pool *pool;
    const float *q;
    const ck_attn_segment *segs;
    int nsegs, nheads, nkv, head_dim, kv_stride;
    int q_head0, group, kv0;  // global index of the first query head, query heads per KV head, first KV head
    float *out;
} ck_attn_job;

// Row offset (in rows of kv_stride floats) of position p in a segment's cache.
static inline size_t kv_row(const ck_attn_segment *s, int p) {
    if (!s->blocks) return (size_t)p;
    return (size_t)s->blocks[p / s->block_size] * s->block_size + (size_t)(p % s->block_size);
}

// First key position a query at `pos` sees (sliding window or the whole prefix).
static inline int first_key(const ck_attn_segment *s, int pos) {
    return s->window > 0 && pos - s->window + 1 > 0 ? pos - s->window + 1 : 0;
}

// scores[p] = e^(scores[p] - max) for p < n; returns their sum.
static float exp_sum_scalar(float *scores, int n, float max) {
    float sum = 0;
    for (int p = 0; p < n; p++) {
        scores[p] = expf(scores[p] - max);
        sum += scores[p];
    }
    return sum;
}

#if defined(__x86_64__)
static CK_AVX2 float exp_sum_avx2(float *scores, int n, float max) {
    __m256 m = _mm256_set1_ps(max), acc = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= n; p += 8) {
        __m256 e = ck_exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + p), m));
        _mm256_storeu_ps(scores + p, e);
        acc = _mm256_add_ps(acc, e);
    }
    return ck_hsum8(acc) + exp_sum_scalar(scores + p, n - p, max);
}
#endif

static void ck_attn_task(void *raw, int task, int thread) {
    const ck_attn_job *j = raw;
    int tok = task / j->nheads;
    int h = task % j->nheads;
    const ck_attn_segment *seg = j->segs;
    while (tok >= seg->tok_offset + seg->ntok) seg++;
    int t = tok - seg->tok_offset;
    int hd = j->head_dim;
    int kvh = (j->q_head0 + h) / j->group - j->kv0;
    int pos = seg->pos0 + t;
    const float *q = j->q + (size_t)tok * j->nheads * hd + (size_t)h * hd;
    float *o = j->out + (size_t)tok * j->nheads * hd + (size_t)h * hd;
    float *scores = ck_pool_scratch(j->pool, thread, (size_t)pos + 1);
    float (*dot)(const float *, const float *, int) = dot_scalar;
    void (*axpy)(float *, float, const float *, int) = axpy_scalar;
    float (*exp_sum)(float *, int, float) = exp_sum_scalar;
#if defined(__x86_64__)
    if (hd % 16 == 0 && ck_isa_active() == CK_ISA_AVX2) { dot = dot_avx2; axpy = axpy_avx2; exp_sum = exp_sum_avx2; }
#endif
    float scale = 1.0f / sqrtf((float)hd);
    float maxs = -INFINITY;
    int p0 = first_key(seg, pos);
    for (int p = p0; p <= pos; p++) {
        const float *k = seg->k + kv_row(seg, p) * j->kv_stride + (size_t)kvh * hd;
        float s = dot(q, k, hd) * scale;
        scores[p] = s;
        if (s > maxs) maxs = s;
    }
    float inv = 1.0f / exp_sum(scores + p0, pos + 1 - p0, maxs);
    for (int i = 0; i < hd; i++) o[i] = 0;
    for (int p = p0; p <= pos; p++) {
        const float *v = seg->v + kv_row(seg, p) * j->kv_stride + (size_t)kvh * hd;
        axpy(o, scores[p] * inv, v, hd);
    }
}

#if defined(__x86_64__)
// AVX2, batches: one task per (token, KV head) handles every query head of the group, so each K and V row
// is loaded once for the group; dot products and the weighted V sum are inlined, and the output
// accumulates in registers 32 dimensions at a time. Requires head_dim % 32 == 0.
#define CK_ATTN_G 4
#define CK_ATTN_AHEAD 4
static CK_AVX2 void ck_attn_group_task(void *raw, int task, int thread) {
    const ck_attn_job *j = raw;
    int tok = task / j->nkv;
    int kvh = task % j->nkv;
    const ck_attn_segment *seg = j->segs;
    while (tok >= seg->tok_offset + seg->ntok) seg++;
    int hd = j->head_dim;
    // The local query heads that read this KV head.
    int lo = (j->kv0 + kvh) * j->group - j->q_head0, hi = lo + j->group;
    if (lo < 0) lo = 0;
    if (hi > j->nheads) hi = j->nheads;
    int group = hi - lo;
    int pos = seg->pos0 + (tok - seg->tok_offset);
    int p0 = first_key(seg, pos);
    int n = pos + 1 - p0;
    float scale = 1.0f / sqrtf((float)hd);
    float *scores = ck_pool_scratch(j->pool, thread, (size_t)CK_ATTN_G * n);
    for (int g0 = 0; g0 < group; g0 += CK_ATTN_G) {
        int gn = group - g0 < CK_ATTN_G ? group - g0 : CK_ATTN_G;
        int h0 = lo + g0;
        const float *q = j->q + (size_t)tok * j->nheads * hd + (size_t)h0 * hd;
        float *o = j->out + (size_t)tok * j->nheads * hd + (size_t)h0 * hd;
        float maxs[CK_ATTN_G] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        for (int p = 0; p < n; p++) {
            const float *k = seg->k + kv_row(seg, p0 + p) * j->kv_stride + (size_t)kvh * hd;
            // Rows of paged blocks are scattered: fetch a few positions ahead (latency, not
            // bandwidth, bounds this loop).
            if (p + CK_ATTN_AHEAD < n) {
                const char *next = (const char *)(seg->k + kv_row(seg, p0 + p + CK_ATTN_AHEAD) * j->kv_stride + (size_t)kvh * hd);
                for (int c = 0; c < hd * (int)sizeof(float); c += 64) _mm_prefetch(next + c, _MM_HINT_T0);
            }
            __m256 acc[CK_ATTN_G];
            for (int g = 0; g < CK_ATTN_G; g++) acc[g] = _mm256_setzero_ps();
            for (int i = 0; i < hd; i += 8) {
                __m256 kv = _mm256_loadu_ps(k + i);
                for (int g = 0; g < CK_ATTN_G; g++)
                    if (g < gn) acc[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + (size_t)g * hd + i), kv, acc[g]);
            }
            for (int g = 0; g < gn; g++) {
                float sc = ck_hsum8(acc[g]) * scale;
                scores[(size_t)g * n + p] = sc;
                if (sc > maxs[g]) maxs[g] = sc;
            }
        }
        for (int g = 0; g < gn; g++) {
            float *sg = scores + (size_t)g * n;
            float inv = 1.0f / exp_sum_avx2(sg, n, maxs[g]);
            for (int p = 0; p < n; p++) sg[p] *= inv;
        }
        for (int d = 0; d < hd; d += 32) {
            __m256 acc[CK_ATTN_G][4];
            for (int g = 0; g < CK_ATTN_G; g++)
                for (int i = 0; i < 4; i++) acc[g][i] = _mm256_setzero_ps();
            for (int p = 0; p < n; p++) {
                const float *v = seg->v + kv_row(seg, p0 + p) * j->kv_stride + (size_t)kvh * hd + d;
                if (p + CK_ATTN_AHEAD < n) {
                    const char *next = (const char *)(seg->v + kv_row(seg, p0 + p + CK_ATTN_AHEAD) * j->kv_stride + (size_t)kvh * hd + d);
                    _mm_prefetch(next, _MM_HINT_T0);
                    _mm_prefetch(next + 64, _MM_HINT_T0);
                }
                __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
                __m256 v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
                for (int g = 0; g < CK_ATTN_G; g++) {
                    if (g >= gn) break;
                    __m256 w = _mm256_broadcast_ss(scores + (size_t)g * n + p);
                    acc[g][0] = _mm256_fmadd_ps(w, v0, acc[g][0]);
                    acc[g][1] = _mm256_fmadd_ps(w, v1, acc[g][1]);
                    acc[g][2] = _mm256_fmadd_ps(w, v2, acc[g][2]);
                    acc[g][3] = _mm256_fmadd_ps(w, v3, acc[g][3]);
                }
            }
            for (int g = 0; g < gn; g++)
                for (int i = 0; i < 4; i++) _mm256_storeu_ps(o + (size_t)g * hd + d + 8 * i, acc[g][i]);
        }
    }
}
#endif

void ck_attention_batch(ck_pool *pool, const float *q, const ck_attn_segment *segs, int nsegs, int nheads,
                        int nkv, int head_dim, int kv_stride, float *out) {
    ck_attention_heads(pool, q, segs, nsegs, nheads, nkv, head_dim, kv_stride, out, 0, nkv > 0 ? nheads / nkv : 1);
}

void ck_attention_heads(ck_pool *pool, const float *q, const ck_attn_segment *segs, int nsegs, int nheads,
                        int nkv, int head_dim, int kv_stride, float *out, int q_head0, int group) {
    if (nsegs <= 0) return;
    ck_attn_job job = {
        .pool = pool, .q = q, .segs = segs, .nsegs = nsegs, .nheads = nheads, .nkv = nkv,
        .head_dim = head_dim, .kv_stride = kv_stride, .out = out,
        .q_head0 = q_head0, .group = group, .kv0 = q_head0 / group,
    };
    int ntok = segs[nsegs - 1].tok_offset + segs[nsegs - 1].ntok;
#if defined(__x86_64__)
    // Grouped tasks when there are enough of them to keep every thread busy (batched decode,
    // prompts); a single sequence's step keeps one task per query head for balance.
    if (head_dim % 32 == 0 && ck_isa_active() == CK_ISA_AVX2 &&
        ntok * nkv >= 8 * ck_pool_threads(pool)) {
        ck_pool_run(pool, ck_attn_group_task, &job, ntok * nkv);
        return;
    }
#endif
    ck_pool_run(pool, ck_attn_task, &job, ntok * nheads);
}

void ck_attention(ck_pool *pool, const float *q, int ntok, int nheads, int nkv, int head_dim,
                  const float *kcache, const float *vcache, int kv_stride, int pos0, float *out) {
    ck_attn_segment seg = { .k = kcache, .v = vcache, .pos0 = pos0, .ntok = ntok, .tok_offset = 0, .blocks = NULL, .block_size = 0, .window = 0 };
    ck_attention_batch(pool, q, &seg, 1, nheads, nkv, head_dim, kv_stride, out);
}
