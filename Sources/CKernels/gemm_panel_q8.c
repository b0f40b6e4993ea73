// Integer panel GEMM for batches over Q4_0/Q4_1 weights with 8-bit activations (AVX2):
// Y[t, r] = sum_k W[r, k] * X[t, k], X quantized per block of 32 as in ck_quantize_q8a.
//
// The activations are quantized once per call into 8-token strips laid out for the kernel: per
// strip and block, eight groups of four k, each group 8 tokens x 4 bytes (one register), then the
// strip's eight scales d and sums s per block. Each task unpacks its weight rows' nibbles into
// bytes (0..15) beside their block scales, and a 4-row x 8-token kernel broadcasts four weight bytes
// of a row against a group register (maddubs: 32 multiply-adds per instruction, four times an
// FMA's). The int16 sums of a block stay below 2^15 (8 groups x 2 x 15 x 127 = 30480), so they
// widen to int32 once per block before the float scaling.
#include "quant_internal.h"
#include "simd_avx2.h"

#include <string.h>

#define Q8P_ROWS 4
#define Q8P_TOKENS 8
#define Q8P_GROUP_BYTES (Q8P_TOKENS * 4)        // one register: 8 tokens x 4 k
#define Q8P_BLOCK_BYTES (8 * Q8P_GROUP_BYTES)   // a block of 32 k for a strip

int ck_has_q8a_panel(int type) { return type == CK_TYPE_Q4_0 || type == CK_TYPE_Q4_1; }

typedef struct {
    ck_pool *pool;
    int type;
    const void *W;
    size_t row_bytes;
    int rows, cols, nb, ntok, nstrips, ldy;
    const float *X;
    float *Y;
    int8_t *XQ;   // [strip][block][group][token][4]
    float *XD;    // [strip][block][token]: activation scales
    float *XS;    // [strip][block][token]: d * sum(q)
    int rows_per_task, strips_per_block;
} ck_q8p_job;

// Quantizes the tokens of one strip into the kernel's layout; pad tokens are zero.
static void ck_q8p_quantize_task(void *raw, int strip, int thread) {
    const ck_q8p_job *j = raw;
    int nb = j->nb;
    ck_block_q8a *tmp = (ck_block_q8a *)ck_pool_scratch(j->pool, thread, (size_t)nb * sizeof(ck_block_q8a) / sizeof(float));
    int8_t *xq = j->XQ + (size_t)strip * nb * Q8P_BLOCK_BYTES;
    float *xd = j->XD + (size_t)strip * nb * Q8P_TOKENS, *xs = j->XS + (size_t)strip * nb * Q8P_TOKENS;
    for (int i = 0; i < Q8P_TOKENS; i++) {
        int t = strip * Q8P_TOKENS + i;
        if (t < j->ntok) {
            ck_quantize_q8a(j->X + (size_t)t * j->cols, tmp, j->cols);
            for (int b = 0; b < nb; b++) {
                xd[b * Q8P_TOKENS + i] = tmp[b].d;
                xs[b * Q8P_TOKENS + i] = tmp[b].s;
                for (int g = 0; g < 8; g++)
                    memcpy(xq + (size_t)b * Q8P_BLOCK_BYTES + g * Q8P_GROUP_BYTES + i * 4, tmp[b].qs + 4 * g, 4);
            }
        } else {
            for (int b = 0; b < nb; b++) {
                xd[b * Q8P_TOKENS + i] = 0;
                xs[b * Q8P_TOKENS + i] = 0;
                for (int g = 0; g < 8; g++) memset(xq + (size_t)b * Q8P_BLOCK_BYTES + g * Q8P_GROUP_BYTES + i * 4, 0, 4);
            }
        }
    }
}

#if defined(__x86_64__)
// Weight row as bytes 0..15 in element order, with its block scales d and offsets: m (Q4_1) or -8d
// (Q4_0), so that sum_k w x = sum_b d_b * dx_b * isum_b + off_b * sx_b.
static CK_AVX2 void ck_q8p_unpack_row_avx2(int type, const void *row, int nb, uint8_t *q, float *d, float *off) {
    for (int b = 0; b < nb; b++) {
        const uint8_t *qs;
        if (type == CK_TYPE_Q4_1) {
            const ck_block_q4_1 *blk = (const ck_block_q4_1 *)row + b;
            d[b] = ck_f16(blk->d);
            off[b] = ck_f16(blk->m);
            qs = blk->qs;
        } else {
            const ck_block_q4_0 *blk = (const ck_block_q4_0 *)row + b;
            d[b] = ck_f16(blk->d);
            off[b] = -8.0f * d[b];
            qs = blk->qs;
        }
        _mm256_storeu_si256((__m256i *)(q + b * 32), ck_unpack_nibbles(qs));
    }
}

static inline CK_AVX2 __m256i ck_bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Four rows (q: bytes, ldq apart; d/off: nb floats, lds apart) against one 8-token strip.
// out[r] holds row r's eight token results.
static CK_AVX2 void ck_q8p_kernel(const uint8_t *q, size_t ldq, const float *d, const float *off, size_t lds, int nb,
                                  const int8_t *xq, const float *xd, const float *xs, __m256 out[Q8P_ROWS]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const uint8_t *q0 = q, *q1 = q + ldq, *q2 = q + 2 * ldq, *q3 = q + 3 * ldq;
    for (int b = 0; b < nb; b++, xq += Q8P_BLOCK_BYTES, q0 += 32, q1 += 32, q2 += 32, q3 += 32) {
        __m256i x = _mm256_load_si256((const __m256i *)xq);
        __m256i s0 = _mm256_maddubs_epi16(ck_bcast4(q0), x), s1 = _mm256_maddubs_epi16(ck_bcast4(q1), x);
        __m256i s2 = _mm256_maddubs_epi16(ck_bcast4(q2), x), s3 = _mm256_maddubs_epi16(ck_bcast4(q3), x);
        for (int g = 1; g < 8; g++) {
            x = _mm256_load_si256((const __m256i *)(xq + g * Q8P_GROUP_BYTES));
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(ck_bcast4(q0 + 4 * g), x));
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(ck_bcast4(q1 + 4 * g), x));
            s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(ck_bcast4(q2 + 4 * g), x));
            s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(ck_bcast4(q3 + 4 * g), x));
        }
        __m256 dx = _mm256_load_ps(xd + (size_t)b * Q8P_TOKENS), sx = _mm256_load_ps(xs + (size_t)b * Q8P_TOKENS);
#define Q8P_FINISH(A, S, R)                                                                                     \
        A = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(S, ones)),                                     \
                            _mm256_mul_ps(_mm256_broadcast_ss(d + (R) * lds + b), dx), A);                     \
        A = _mm256_fmadd_ps(_mm256_broadcast_ss(off + (R) * lds + b), sx, A);
        Q8P_FINISH(a0, s0, 0) Q8P_FINISH(a1, s1, 1) Q8P_FINISH(a2, s2, 2) Q8P_FINISH(a3, s3, 3)
#undef Q8P_FINISH
    }
    out[0] = a0; out[1] = a1; out[2] = a2; out[3] = a3;
}

// Four rows x eight tokens from registers into y[t * ldy + r]: a 4x8 transpose, four floats a token.
static inline CK_AVX2 void ck_q8p_store(const __m256 a[Q8P_ROWS], float *y, int ldy) {
    __m256 t0 = _mm256_unpacklo_ps(a[0], a[1]), t1 = _mm256_unpackhi_ps(a[0], a[1]);
    __m256 t2 = _mm256_unpacklo_ps(a[2], a[3]), t3 = _mm256_unpackhi_ps(a[2], a[3]);
    __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                   _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
    for (int i = 0; i < 4; i++) {
        _mm_storeu_ps(y + (size_t)i * ldy, _mm256_castps256_ps128(u[i]));
        _mm_storeu_ps(y + (size_t)(i + 4) * ldy, _mm256_extractf128_ps(u[i], 1));
    }
}

// A task unpacks its rows once, then runs them in groups of four against the strips, a block of
// strips (that stays in L2) at a time.
static CK_AVX2 void ck_q8p_task(void *raw, int task, int thread) {
    const ck_q8p_job *j = raw;
    int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->rows) r1 = j->rows;
    int n = r1 - r0, groups = (n + Q8P_ROWS - 1) / Q8P_ROWS, padded = groups * Q8P_ROWS, nb = j->nb;
    size_t ldq = (size_t)j->cols, lds = (size_t)nb;
    size_t qfloats = (ldq * padded + 3) / 4;
    float *scratch = ck_pool_scratch(j->pool, thread, qfloats + 2 * lds * padded);
    uint8_t *q = (uint8_t *)scratch;
    float *d = scratch + qfloats, *off = d + lds * padded;
    for (int r = 0; r < n; r++)
        ck_q8p_unpack_row_avx2(j->type, (const uint8_t *)j->W + (size_t)(r0 + r) * j->row_bytes, nb, q + r * ldq, d + r * lds, off + r * lds);
    if (padded > n) {
        memset(q + n * ldq, 0, ldq * (padded - n));
        memset(d + n * lds, 0, sizeof(float) * lds * (padded - n));
        memset(off + n * lds, 0, sizeof(float) * lds * (padded - n));
    }
    for (int sb = 0; sb < j->nstrips; sb += j->strips_per_block) {
        int se = sb + j->strips_per_block < j->nstrips ? sb + j->strips_per_block : j->nstrips;
        for (int g = 0; g < groups; g++) {
            int rg = g * Q8P_ROWS, nr = n - rg < Q8P_ROWS ? n - rg : Q8P_ROWS;
            for (int s = sb; s < se; s++) {
                __m256 acc[Q8P_ROWS];
                ck_q8p_kernel(q + rg * ldq, ldq, d + rg * lds, off + rg * lds, lds, nb,
                              j->XQ + (size_t)s * nb * Q8P_BLOCK_BYTES, j->XD + (size_t)s * nb * Q8P_TOKENS,
                              j->XS + (size_t)s * nb * Q8P_TOKENS, acc);
                int t0 = s * Q8P_TOKENS, nt = j->ntok - t0 < Q8P_TOKENS ? j->ntok - t0 : Q8P_TOKENS;
                float *y = j->Y + (size_t)t0 * j->ldy + r0 + rg;
                if (nr == Q8P_ROWS && nt == Q8P_TOKENS) {
                    ck_q8p_store(acc, y, j->ldy);
                } else {
                    float tile[Q8P_ROWS][Q8P_TOKENS];
                    for (int r = 0; r < Q8P_ROWS; r++) _mm256_storeu_ps(tile[r], acc[r]);
                    for (int i = 0; i < nt; i++, y += j->ldy)
                        for (int r = 0; r < nr; r++) y[r] = tile[r][i];
                }
            }
        }
    }
}
#endif

int ck_gemm_panel_q8(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                     const float *X, int ntok, float *Y, int ldy) {
#if defined(__x86_64__)
    if (!ck_has_q8a_panel(type) || cols % CK_QK != 0 || ck_isa_active() != CK_ISA_AVX2) return 0;
    int nb = cols / CK_QK, nstrips = (ntok + Q8P_TOKENS - 1) / Q8P_TOKENS;
    size_t xq_floats = (size_t)nstrips * nb * Q8P_BLOCK_BYTES / sizeof(float);
    size_t xs_floats = (size_t)nstrips * nb * Q8P_TOKENS;
    float *shared = ck_pool_shared_floats(pool, xq_floats + 2 * xs_floats);
    ck_q8p_job job = {
        .pool = pool, .type = type, .W = W, .row_bytes = row_bytes, .rows = rows, .cols = cols, .nb = nb,
        .ntok = ntok, .nstrips = nstrips, .ldy = ldy, .X = X, .Y = Y,
        .XQ = (int8_t *)shared, .XD = shared + xq_floats, .XS = shared + xq_floats + xs_floats,
    };
    ck_pool_run(pool, ck_q8p_quantize_task, &job, nstrips);
    // About eight tasks per thread in whole four-row groups, at most ~128 KB of unpacked rows each.
    int threads = ck_pool_threads(pool);
    int per = rows / (threads * 8);
    int cap = (int)((128 << 10) / ((size_t)cols + 8 * (size_t)nb));
    if (per > cap) per = cap;
    per = (per + Q8P_ROWS - 1) / Q8P_ROWS * Q8P_ROWS;
    if (per < Q8P_ROWS) per = Q8P_ROWS;
    job.rows_per_task = per;
    // Strip blocks of at most ~256 KB of activations.
    int spb = (int)((256 << 10) / ((size_t)nb * (Q8P_BLOCK_BYTES + 2 * Q8P_TOKENS * sizeof(float))));
    job.strips_per_block = spb < 1 ? 1 : spb;
    ck_pool_run(pool, ck_q8p_task, &job, (rows + per - 1) / per);
    return 1;
#else
    (void)pool; (void)type; (void)W; (void)row_bytes; (void)rows; (void)cols; (void)X; (void)ntok; (void)Y; (void)ldy;
    return 0;
#endif
}
