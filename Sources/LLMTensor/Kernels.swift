import CKernels

/// A read-only row-major weight matrix of any supported type, usually pointing into a memory-mapped
/// model file. `rows` outputs, `cols` inputs.
public struct WeightMatrix: @unchecked Sendable {
    public let type: TensorType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    public var rowBytes: Int { type.byteCount(elements: cols)! }

    public init(type: TensorType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        precondition(cols % type.blockSize == 0, "row length must be a whole number of blocks")
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// Row `r` as raw bytes.
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}

/// Swift entry points to the C kernels. All pointers are caller-owned and preallocated.
public enum Kernels {
    /// y[t * ldy + r] = W_r · x_t for every row r and each of `tokens` activation rows of x.
    /// `exact` keeps float activations even where 8-bit ones would be used (see `int8MaxTokens`).
    @inline(__always)
    public static func matmul(_ pool: WorkerPool, _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, exact: Bool = false) {
        ck_matmul_ex(pool.raw, Int32(w.type.rawValue), w.data, w.rowBytes, Int32(w.rows), Int32(w.cols),
                     x, Int32(tokens), y, Int32(ldy ?? w.rows), exact ? 0 : -1)
    }

    /// The same over a batch whose rows from `exactFrom` on (prompt tokens) keep float activations
    /// while the rows before it (decode tokens) may use 8-bit ones: two calls when the batch mixes them.
    @inline(__always)
    public static func matmul(_ pool: WorkerPool, _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, exactFrom: Int) {
        let ld = ldy ?? w.rows
        if exactFrom <= 0 || exactFrom >= tokens {
            matmul(pool, w, x, tokens: tokens, y, ldy: ld, exact: exactFrom <= 0)
            return
        }
        matmul(pool, w, x, tokens: exactFrom, y, ldy: ld, exact: false)
        matmul(pool, w, x + exactFrom * w.cols, tokens: tokens - exactFrom, y + exactFrom * ld, ldy: ld, exact: true)
    }

    /// Dequantizes `count` elements of `type` into dst.
    @inline(__always)
    public static func dequantize(_ type: TensorType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        ck_dequantize_row(Int32(type.rawValue), src, dst, Int64(count))
    }

    /// Dot product of a weight row of `type` with `count` floats.
    public static func dot(_ type: TensorType, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        ck_dot(Int32(type.rawValue), w, x, Int64(count))
    }

    @inline(__always)
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               rows: Int, width: Int, eps: Float) {
        ck_rmsnorm(x, weight, out, Int32(rows), Int32(width), eps)
    }

    @inline(__always)
    public static func ropeTable(_ table: UnsafeMutablePointer<Float>, tokens: Int, headDim: Int, position: Int, base: Float) {
        ck_rope_table(table, Int32(tokens), Int32(headDim), Int32(position), base)
    }

    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                            table: UnsafePointer<Float>, stride: Int) {
        ck_rope(x, Int32(tokens), Int32(heads), Int32(headDim), table, Int32(stride))
    }

    /// Rotary embedding on split halves (x[i], x[i + headDim/2]): the NEOX layout (Gemma).
    @inline(__always)
    public static func ropeNeox(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                table: UnsafePointer<Float>, stride: Int) {
        ck_rope_neox(x, Int32(tokens), Int32(heads), Int32(headDim), table, Int32(stride))
    }

    /// gate = gelu_tanh(gate) * up (GeGLU).
    @inline(__always)
    public static func geglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        ck_geglu(gate, up, Int64(count))
    }

    /// x *= factor
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        ck_scale(x, factor, Int64(count))
    }

    @inline(__always)
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        ck_swiglu(gate, up, Int64(count))
    }

    @inline(__always)
    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        ck_add(y, x, Int64(count))
    }

    /// Causal GQA attention of `tokens` queries at positions position..position+tokens-1.
    @inline(__always)
    public static func attention(_ pool: WorkerPool, q: UnsafePointer<Float>, tokens: Int, heads: Int, kvHeads: Int,
                                 headDim: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                 kvStride: Int, position: Int, out: UnsafeMutablePointer<Float>) {
        ck_attention(pool.raw, q, Int32(tokens), Int32(heads), Int32(kvHeads), Int32(headDim), keys, values,
                     Int32(kvStride), Int32(position), out)
    }

    /// Attention over a contiguous range of query heads starting at global head `firstHead`, with
    /// `group` query heads per KV head in the whole model (a tensor-parallel worker's share).
    @inline(__always)
    public static func attention(_ pool: WorkerPool, q: UnsafePointer<Float>, segments: UnsafePointer<ck_attn_segment>,
                                 count: Int, heads: Int, kvHeads: Int, headDim: Int, kvStride: Int,
                                 out: UnsafeMutablePointer<Float>, firstHead: Int, group: Int) {
        ck_attention_heads(pool.raw, q, segments, Int32(count), Int32(heads), Int32(kvHeads), Int32(headDim),
                           Int32(kvStride), out, Int32(firstHead), Int32(group))
    }

    /// 8-bit activations (llama.cpp's method; faster, slightly less exact) unless a matmul is called
    /// with `exact`: batches of 4+ tokens over Q4_0/Q4_1 weights use the integer panel GEMM (AVX2),
    /// batches of at most this many tokens (default 16: decode steps) the integer row kernels. 0
    /// keeps all math in float.
    public static var int8MaxTokens: Int {
        get { Int(ck_int8_max_tokens()) }
        set { ck_set_int8_max_tokens(Int32(newValue)) }
    }

    /// Attention for several sequences in one parallel region; `segments` carry each sequence's
    /// KV cache, first position, token count and row offset.
    @inline(__always)
    public static func attention(_ pool: WorkerPool, q: UnsafePointer<Float>, segments: UnsafePointer<ck_attn_segment>,
                                 count: Int, heads: Int, kvHeads: Int, headDim: Int, kvStride: Int,
                                 out: UnsafeMutablePointer<Float>) {
        ck_attention_batch(pool.raw, q, segments, Int32(count), Int32(heads), Int32(kvHeads), Int32(headDim),
                           Int32(kvStride), out)
    }

    /// Batches of at least this many tokens use the batch GEMM (`batchGemm`).
    public static func setGemmThreshold(_ tokens: Int) { ck_set_gemm_threshold(Int32(tokens)) }

    /// The batch GEMM: the project's panel kernel or OpenBLAS sgemm.
    public enum BatchGemm: String, Sendable, CaseIterable {
        /// Six weight rows dequantized at a time into a register-blocked 6x16 kernel (default).
        case panel
        /// Blocks of rows dequantized, then single-threaded OpenBLAS sgemm per worker.
        case openblas
    }

    /// Which batch GEMM large batches use (process-wide).
    public static var batchGemm: BatchGemm {
        get { ck_get_batch_gemm() == Int32(CK_GEMM_OPENBLAS) ? .openblas : .panel }
        set { ck_set_batch_gemm(newValue == .openblas ? Int32(CK_GEMM_OPENBLAS) : Int32(CK_GEMM_PANEL)) }
    }
}
