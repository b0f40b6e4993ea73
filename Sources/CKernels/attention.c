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

// Offsets (in floats from the segment's k/v base) of KV head `head` at positions p0..p0+n-1: one
// division for the first position, then a walk along the block table.
static void kv_offsets(const ck_attn_segment *s, int p0, int n, size_t stride, size_t head, size_t *off) {
    if (!s->blocks) {
        for (int p = 0; p < n; p++) off[p] = (size_t)(p0 + p) * stride + head;
        return;
    }
    int b = p0 / s->block_size, slot = p0 % s->block_size;
    size_t base = (size_t)s->blocks[b] * s->block_size;
    for (int p = 0; p < n; p++) {
        off[p] = (base + (size_t)slot) * stride + head;
        if (++slot == s->block_size && p + 1 < n) {
            slot = 0;
            base = (size_t)s->blocks[++b] * s->block_size;
        }
    }
}

// A task's scratch: the row offsets of KV head `kvh` at positions p0..p0+n-1 (filled; rounded up to
// whole cache lines), then room for `heads` rows of n scores.
static const size_t *attn_scratch(const ck_attn_job *j, int thread, const ck_attn_segment *seg, int p0, int n,
                                  int kvh, int heads, float **scores) {
    size_t off_floats = ((size_t)n * sizeof(size_t) / sizeof(float) + 15) & ~(size_t)15;
    float *buf = ck_pool_scratch(j->pool, thread, off_floats + (size_t)heads * n);
    size_t *off = (size_t *)buf;
    kv_offsets(seg, p0, n, (size_t)j->kv_stride, (size_t)kvh * j->head_dim, off);
    *scores = buf + off_floats;
    return off;
}

#if defined(__x86_64__)
static CK_AVX2 void ck_attn_head_avx2(const float *q, const ck_attn_segment *seg, const size_t *off, int n, int hd,
                                      float *scores, float *o);
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
    int p0 = first_key(seg, pos);
    int n = pos + 1 - p0;
    float *scores;
    const size_t *off = attn_scratch(j, thread, seg, p0, n, kvh, 1, &scores);
#if defined(__x86_64__)
    if (hd % 32 == 0 && ck_isa_active() == CK_ISA_AVX2) {
        ck_attn_head_avx2(q, seg, off, n, hd, scores, o);
        return;
    }
#endif
    float (*dot)(const float *, const float *, int) = dot_scalar;
    void (*axpy)(float *, float, const float *, int) = axpy_scalar;
    float (*exp_sum)(float *, int, float) = exp_sum_scalar;
#if defined(__x86_64__)
    if (hd % 16 == 0 && ck_isa_active() == CK_ISA_AVX2) { dot = dot_avx2; axpy = axpy_avx2; exp_sum = exp_sum_avx2; }
#endif
    float scale = 1.0f / sqrtf((float)hd);
    float maxs = -INFINITY;
    for (int p = 0; p < n; p++) {
        float s = dot(q, seg->k + off[p], hd) * scale;
        scores[p] = s;
        if (s > maxs) maxs = s;
    }
    float inv = 1.0f / exp_sum(scores, n, maxs);
    for (int i = 0; i < hd; i++) o[i] = 0;
    for (int p = 0; p < n; p++) axpy(o, scores[p] * inv, seg->v + off[p], hd);
}

#if defined(__x86_64__)
// AVX2, batches: one task per (token, KV head) handles every query head of the group, so each K and V row
// is loaded once for the group; dot products and the weighted V sum are inlined, and the output
// accumulates in registers 16 or 32 dimensions at a time. Requires head_dim % 32 == 0.
#define CK_ATTN_G 4
#define CK_ATTN_AHEAD 8

// Scores of `gn` query heads (a compile-time constant where inlined) against positions 0..n-1, two
// positions at a time so 2 * gn independent FMA chains hide the FMA latency: writes scores[g * n + p]
// and raises maxs[g] to each head's maximum.
static inline __attribute__((always_inline)) CK_AVX2 void attn_scores(const float *q, const float *kbase,
                                                                       const size_t *off, int n, int hd, float scale,
                                                                       int gn, float *scores, float *maxs) {
    int p = 0;
    for (; p + 2 <= n; p += 2) {
        const float *k0 = kbase + off[p], *k1 = kbase + off[p + 1];
        if (p + CK_ATTN_AHEAD + 1 < n) {
            const char *n0 = (const char *)(kbase + off[p + CK_ATTN_AHEAD]);
            const char *n1 = (const char *)(kbase + off[p + CK_ATTN_AHEAD + 1]);
            for (int c = 0; c < hd * (int)sizeof(float); c += 64) {
                _mm_prefetch(n0 + c, _MM_HINT_T0);
                _mm_prefetch(n1 + c, _MM_HINT_T0);
            }
        }
        __m256 a0[CK_ATTN_G], a1[CK_ATTN_G];
        for (int g = 0; g < gn; g++) a0[g] = a1[g] = _mm256_setzero_ps();
        for (int i = 0; i < hd; i += 8) {
            __m256 x0 = _mm256_loadu_ps(k0 + i), x1 = _mm256_loadu_ps(k1 + i);
            for (int g = 0; g < gn; g++) {
                __m256 qv = _mm256_loadu_ps(q + (size_t)g * hd + i);
                a0[g] = _mm256_fmadd_ps(qv, x0, a0[g]);
                a1[g] = _mm256_fmadd_ps(qv, x1, a1[g]);
            }
        }
        for (int g = 0; g < gn; g++) {
            float s0 = ck_hsum8(a0[g]) * scale, s1 = ck_hsum8(a1[g]) * scale;
            scores[(size_t)g * n + p] = s0;
            scores[(size_t)g * n + p + 1] = s1;
            if (s0 > maxs[g]) maxs[g] = s0;
            if (s1 > maxs[g]) maxs[g] = s1;
        }
    }
    if (p < n) {
        const float *k0 = kbase + off[p];
        __m256 a0[CK_ATTN_G];
        for (int g = 0; g < gn; g++) a0[g] = _mm256_setzero_ps();
        for (int i = 0; i < hd; i += 8) {
            __m256 x0 = _mm256_loadu_ps(k0 + i);
            for (int g = 0; g < gn; g++) a0[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + (size_t)g * hd + i), x0, a0[g]);
        }
        for (int g = 0; g < gn; g++) {
            float s0 = ck_hsum8(a0[g]) * scale;
            scores[(size_t)g * n + p] = s0;
            if (s0 > maxs[g]) maxs[g] = s0;
        }
    }
}

// o[g] = sum_p scores[g * n + p] * V[p] for `gn` heads, in chunks of dimensions whose accumulators
// and per-head weights fit the 16 registers (32 dimensions for up to three heads, 16 for four; a
// spilled accumulator chains every position through memory). V loads fold into the FMAs.
static inline __attribute__((always_inline)) CK_AVX2 void attn_values(const float *scores, const float *vbase,
                                                                       const size_t *off, int n, int hd, int gn,
                                                                       float *o) {
    enum { W = 4 };  // most 8-float vectors per chunk
    const int nv = gn <= 3 ? 4 : 2;
    for (int d = 0; d < hd; d += 8 * nv) {
        __m256 acc[CK_ATTN_G][W];
        for (int g = 0; g < gn; g++)
            for (int i = 0; i < nv; i++) acc[g][i] = _mm256_setzero_ps();
        for (int p = 0; p < n; p++) {
            const float *v = vbase + off[p] + d;
            if (p + CK_ATTN_AHEAD < n) {
                const char *next = (const char *)(vbase + off[p + CK_ATTN_AHEAD] + d);
                for (int c = 0; c < 32 * nv; c += 64) _mm_prefetch(next + c, _MM_HINT_T0);
            }
            __m256 w[CK_ATTN_G];
            for (int g = 0; g < gn; g++) w[g] = _mm256_broadcast_ss(scores + (size_t)g * n + p);
            for (int i = 0; i < nv; i++)
                for (int g = 0; g < gn; g++) acc[g][i] = _mm256_fmadd_ps(w[g], _mm256_loadu_ps(v + 8 * i), acc[g][i]);
        }
        for (int g = 0; g < gn; g++)
            for (int i = 0; i < nv; i++) _mm256_storeu_ps(o + (size_t)g * hd + d + 8 * i, acc[g][i]);
    }
}

// One group of `gn` query heads: scores, softmax, weighted values.
static inline __attribute__((always_inline)) CK_AVX2 void attn_group(const float *q, const ck_attn_segment *seg,
                                                                      const size_t *off, int n, int hd, float scale,
                                                                      int gn, float *scores, float *o) {
    float maxs[CK_ATTN_G] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    attn_scores(q, seg->k, off, n, hd, scale, gn, scores, maxs);
    for (int g = 0; g < gn; g++) {
        float *sg = scores + (size_t)g * n;
        float inv = 1.0f / exp_sum_avx2(sg, n, maxs[g]);
        for (int p = 0; p < n; p++) sg[p] *= inv;
    }
    attn_values(scores, seg->v, off, n, hd, gn, o);
}

// One query head (a single sequence's step, one task per head): the group code with one head, two
// positions per step and the output in registers.
static CK_AVX2 void ck_attn_head_avx2(const float *q, const ck_attn_segment *seg, const size_t *off, int n, int hd,
                                      float *scores, float *o) {
    attn_group(q, seg, off, n, hd, 1.0f / sqrtf((float)hd), 1, scores, o);
}

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
    float *scores;
    const size_t *off = attn_scratch(j, thread, seg, p0, n, kvh, CK_ATTN_G, &scores);
    for (int g0 = 0; g0 < group; g0 += CK_ATTN_G) {
        int gn = group - g0 < CK_ATTN_G ? group - g0 : CK_ATTN_G;
        const float *q = j->q + (size_t)tok * j->nheads * hd + (size_t)(lo + g0) * hd;
        float *o = j->out + (size_t)tok * j->nheads * hd + (size_t)(lo + g0) * hd;
        switch (gn) {  // constant group sizes, so the head loops unroll
        case 1: attn_group(q, seg, off, n, hd, scale, 1, scores, o); break;
        case 2: attn_group(q, seg, off, n, hd, scale, 2, scores, o); break;
        case 3: attn_group(q, seg, off, n, hd, scale, 3, scores, o); break;
        default: attn_group(q, seg, off, n, hd, scale, 4, scores, o); break;
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
