// CKernels: the hot inner loops of ScaleLLM-Swift, in C so that SIMD variants can be compiled for
// several instruction sets in one binary and picked at run time (never `-march=native`).
//
// Everything here works on caller-owned memory and allocates nothing per call (the worker pool owns
// per-thread scratch that grows once). Layouts of the quantized blocks follow GGUF/ggml exactly.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// Tensor element types (values are ggml's type ids as stored in GGUF).
enum {
    CK_TYPE_F32 = 0,
    CK_TYPE_F16 = 1,
    CK_TYPE_Q4_0 = 2,
    CK_TYPE_Q4_1 = 3,
    CK_TYPE_Q5_0 = 6,
    CK_TYPE_Q8_0 = 8,
    CK_TYPE_Q4_K = 12,
    CK_TYPE_Q6_K = 14,
    CK_TYPE_BF16 = 30,
};

/// Bytes taken by `n` elements of `type` (n a multiple of the block size for quantized types);
/// 0 for an unsupported type.
size_t ck_row_bytes(int type, int64_t n);

// ---------------------------------------------------------------------------------------------
// Instruction-set selection.
enum {
    CK_ISA_SCALAR = 0,
    CK_ISA_AVX2 = 1,   // AVX2 + FMA + F16C
};

/// Best instruction set this CPU supports.
int ck_isa_detected(void);
/// Instruction set the kernels use now (detected unless forced).
int ck_isa_active(void);
/// Force an instruction set for the calling thread's kernel choices (clamped to what the CPU
/// supports); -1 restores detection. Used by tests to run the scalar path.
void ck_isa_force(int isa);

// ---------------------------------------------------------------------------------------------
// Worker pool: a fixed set of threads that spin briefly between jobs and then sleep, so the
// hundreds of small parallel regions of one decode step cost microseconds, not wake-ups.
typedef struct ck_pool ck_pool;
typedef void (*ck_task_fn)(void *ctx, int task, int thread);

/// A pool with `nthreads` threads in all (the caller of ck_pool_run counts as one).
ck_pool *ck_pool_create(int nthreads);
void ck_pool_destroy(ck_pool *pool);
int ck_pool_threads(const ck_pool *pool);
/// Runs fn(ctx, task, thread) for task in [0, ntasks) across the pool; returns when all are done.
/// Not reentrant: one caller at a time.
void ck_pool_run(ck_pool *pool, ck_task_fn fn, void *ctx, int ntasks);
/// Runs fn(ctx, t, t) exactly once on each thread t of the pool, all at the same time (so they may
/// wait for each other at a ck_barrier): tensor-parallel workers. The caller is thread 0.
void ck_pool_run_each(ck_pool *pool, ck_task_fn fn, void *ctx);
/// Pins thread i to the i-th CPU this process may run on (thread 0, the caller, only during
/// ck_pool_run_each). Returns 0, pinning nothing, when there are fewer CPUs than threads.
int ck_pool_pin(ck_pool *pool);
/// Per-thread scratch of at least `floats` floats (grown on demand, kept between calls).
float *ck_pool_scratch(ck_pool *pool, int thread, size_t floats);

/// A spinning barrier for `n` threads, reusable.
typedef struct ck_barrier ck_barrier;
ck_barrier *ck_barrier_create(int n);
void ck_barrier_destroy(ck_barrier *b);
void ck_barrier_wait(ck_barrier *b);

// ---------------------------------------------------------------------------------------------
// Conversion.
float ck_fp16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_fp16(float f);

/// Dequantizes `n` elements of a row of `type` into dst.
void ck_dequantize_row(int type, const void *src, float *dst, int64_t n);

/// Dot product of one weight row of `type` with float x (n elements).
float ck_dot(int type, const void *w, const float *x, int64_t n);

/// Y[t * ldy + r] = dot(W row r, X[t * cols ...]) for r < rows, t < ntok.
/// W is row-major with `row_bytes` bytes per row. Rows are split across the pool; batches at or
/// above the GEMM threshold use the batch GEMM chosen with ck_set_batch_gemm.
void ck_matmul(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
               const float *X, int ntok, float *Y, int ldy);

/// ck_matmul with an explicit 8-bit activation limit for this call (-1: the global setting).
void ck_matmul_ex(ck_pool *pool, int type, const void *W, size_t row_bytes, int rows, int cols,
                  const float *X, int ntok, float *Y, int ldy, int int8_max_tokens);

/// How float batches at or above the GEMM threshold are multiplied: CK_GEMM_PANEL (default: weights
/// dequantized six rows at a time into a 6x16 register-blocked kernel, gemm_panel.c) or
/// CK_GEMM_OPENBLAS (blocks of rows dequantized, then OpenBLAS sgemm). Batches with 8-bit
/// activations over Q4_0/Q4_1 use the integer panel GEMM (gemm_panel_q8.c) instead.
enum { CK_GEMM_PANEL = 0, CK_GEMM_OPENBLAS = 1 };
void ck_set_batch_gemm(int kind);
int ck_get_batch_gemm(void);

/// Token counts at or above this use the batch GEMM path (default 8).
void ck_set_gemm_threshold(int ntok);
/// 8-bit activations (quantized per block of 32, integer dot products, as llama.cpp does): batches of
/// 4+ tokens over Q4_0/Q4_1 use the integer panel GEMM (AVX2), batches of at most this many tokens
/// (default 16: decode steps) the integer row kernels for Q4_0/Q4_1/Q5_0/Q8_0, the rest float math.
/// 0 keeps every matmul in float.
void ck_set_int8_max_tokens(int ntok);
int ck_int8_max_tokens(void);

/// Activations quantized for the integer kernels: per block of 32, a float scale d, the float
/// s = d * sum(q), and 32 signed bytes (x ~= d * q).
typedef struct { float d; float s; int8_t qs[32]; } ck_block_q8a;
/// Quantizes n floats (n a multiple of 32) into n/32 blocks.
void ck_quantize_q8a(const float *x, ck_block_q8a *out, int64_t n);
/// Dot product of a weight row with quantized activations, scalar reference (exact integer math).
/// Types without an integer kernel (see ck_has_q8a_kernel) dequantize both sides and use float
/// math; NAN for an unknown type or n not a whole number of blocks.
float ck_dot_q8a_scalar(int type, const void *w, const ck_block_q8a *x, int64_t n);
/// Whether `type` has 8-bit activation integer kernels (Q4_0, Q4_1, Q5_0, Q8_0).
int ck_has_q8a_kernel(int type);
/// Whether `type` has the integer panel GEMM for batches (Q4_0, Q4_1; used with AVX2).
int ck_has_q8a_panel(int type);
/// The same with the best instruction set.
float ck_dot_q8a(int type, const void *w, const ck_block_q8a *x, int64_t n);

// ---------------------------------------------------------------------------------------------
// Layer pieces (float activations).

/// out[i] = x[i] / rms(x) * w[i] for each of `rows` rows of length n.
void ck_rmsnorm(const float *x, const float *w, float *out, int rows, int n, float eps);
/// Fills table[t][i] = (cos, sin) of (pos0 + t) * base^(-2i/head_dim) for i < head_dim/2.
void ck_rope_table(float *table, int ntok, int head_dim, int pos0, float theta_base);
/// Rotary embedding on adjacent pairs (x[2i], x[2i+1]) of each of `nheads` heads of each token
/// (row stride `ld` floats), using a table from ck_rope_table.
void ck_rope(float *x, int ntok, int nheads, int head_dim, const float *table, int ld);
/// Rotary embedding on split halves (x[i], x[i + head_dim/2]) — the "NEOX" layout of GPT-NeoX,
/// Gemma, Qwen — with the same table and strides as ck_rope.
void ck_rope_neox(float *x, int ntok, int nheads, int head_dim, const float *table, int ld);
/// gate[i] = silu(gate[i]) * up[i]
void ck_swiglu(float *gate, const float *up, int64_t n);
/// gate[i] = gelu(gate[i]) * up[i], GELU in its tanh approximation (GeGLU).
void ck_geglu(float *gate, const float *up, int64_t n);
/// x[i] *= s
void ck_scale(float *x, float s, int64_t n);
/// y[i] += x[i]
void ck_add(float *y, const float *x, int64_t n);

/// Causal attention for `ntok` query tokens at positions pos0..pos0+ntok-1 against a KV cache that
/// already holds keys/values for positions 0..pos0+ntok-1.
///  q: ntok x (nheads*head_dim); out: same shape.
///  kcache/vcache: position-major, `kv_stride` floats per position, kv head h at h*head_dim.
void ck_attention(ck_pool *pool, const float *q, int ntok, int nheads, int nkv, int head_dim,
                  const float *kcache, const float *vcache, int kv_stride, int pos0, float *out);

/// One sequence's slice of a batched attention call: its `ntok` query tokens start at row
/// `tok_offset` of q/out and sit at positions pos0..pos0+ntok-1 of its own KV cache. With a block
/// table (`blocks` non-NULL), position p lives in block blocks[p / block_size], slot
/// p % block_size, and k/v point at the start of the layer's block storage (paged KV cache).
/// With `window` > 0 a query at position p attends only to positions p - window + 1 ... p
/// (sliding-window attention); 0 attends to every earlier position.
typedef struct {
    const float *k;
    const float *v;
    int pos0;
    int ntok;
    int tok_offset;
    const int32_t *blocks;
    int block_size;
    int window;
} ck_attn_segment;

/// Causal attention for several sequences in one parallel region (continuous batching).
void ck_attention_batch(ck_pool *pool, const float *q, const ck_attn_segment *segs, int nsegs, int nheads,
                        int nkv, int head_dim, int kv_stride, float *out);
/// The same over a contiguous range of a model's query heads (one tensor-parallel worker's share):
/// q/out hold `nheads` local heads, the first being global head `q_head0`; global head g reads
/// global KV head g / `group`, and the cache rows (k/v of each segment) start at global KV head
/// q_head0 / group and hold the `nkv` KV heads the range needs.
void ck_attention_heads(ck_pool *pool, const float *q, const ck_attn_segment *segs, int nsegs, int nheads,
                        int nkv, int head_dim, int kv_stride, float *out, int q_head0, int group);

// ---------------------------------------------------------------------------------------------
// Weight quantization.

/// Writes `n` floats as a row of `type` (F32, F16, BF16, Q8_0 or Q4_0; n a multiple of 32 for the
/// quantized ones) with ggml's reference rounding. Returns the bytes written, 0 for an unsupported
/// type or length.
size_t ck_quantize_row(int type, const float *src, void *dst, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
