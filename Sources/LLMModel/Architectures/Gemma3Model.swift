import CKernels
import LLMTensor

/// The Gemma 3 architecture (text part): grouped-query attention with RMS-normalised queries and
/// keys per head, NEOX-layout rotary embeddings, five sliding-window layers (local base frequency
/// 10 000) to every global one, a GeGLU MLP, extra RMSNorms after attention and after the MLP,
/// embeddings scaled by √width and tied to the output. GGUF stores the norm weights with Gemma's
/// "+1" already added, so every norm is a plain RMSNorm.
public final class Gemma3Model: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile
    let tokenEmbedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let blocks: [Block]
    /// Rotary base of the sliding-window layers.
    let localRopeBase: Float
    /// Every `slidingWindowPattern`-th layer attends globally; the others use the window.
    let slidingWindowPattern: Int

    struct Block: @unchecked Sendable {
        let attnNorm, qNorm, kNorm, postAttnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let ffnNorm, postFfnNorm: UnsafePointer<Float>
        let gate, up, down: WeightMatrix
        let slidingWindow: Bool
    }

    public init(gguf: GGUFFile) throws(ModelError) {
        let arch = try gguf.string("general.architecture")
        let c = try ModelConfig(gguf: gguf, architecture: arch)
        config = c
        file = gguf
        localRopeBase = gguf.metadata["\(arch).rope.local_freq_base"]?.double.map(Float.init) ?? 10000
        slidingWindowPattern = gguf.metadata["\(arch).attention.sliding_window_pattern"]?.int ?? 6
        guard slidingWindowPattern > 0 else {
            throw .badMetadata(key: "\(arch).attention.sliding_window_pattern", reason: "must be positive")
        }
        var loader = WeightLoader(gguf: gguf)
        tokenEmbedding = try loader.matrix("token_embd.weight", rows: c.vocabularySize, cols: c.width)
        outputNorm = try loader.vector("output_norm.weight", count: c.width)
        output = gguf.tensors["output.weight"] == nil
            ? tokenEmbedding
            : try loader.matrix("output.weight", rows: c.vocabularySize, cols: c.width)
        let qWidth = c.heads * c.headDim
        var blocks: [Block] = []
        for i in 0..<c.layers {
            let p = "blk.\(i)."
            blocks.append(Block(
                attnNorm: try loader.vector(p + "attn_norm.weight", count: c.width),
                qNorm: try loader.vector(p + "attn_q_norm.weight", count: c.headDim),
                kNorm: try loader.vector(p + "attn_k_norm.weight", count: c.headDim),
                postAttnNorm: try loader.vector(p + "post_attention_norm.weight", count: c.width),
                wq: try loader.matrix(p + "attn_q.weight", rows: qWidth, cols: c.width),
                wk: try loader.matrix(p + "attn_k.weight", rows: c.kvWidth, cols: c.width),
                wv: try loader.matrix(p + "attn_v.weight", rows: c.kvWidth, cols: c.width),
                wo: try loader.matrix(p + "attn_output.weight", rows: c.width, cols: qWidth),
                ffnNorm: try loader.vector(p + "ffn_norm.weight", count: c.width),
                postFfnNorm: try loader.vector(p + "post_ffw_norm.weight", count: c.width),
                gate: try loader.matrix(p + "ffn_gate.weight", rows: c.feedForward, cols: c.width),
                up: try loader.matrix(p + "ffn_up.weight", rows: c.feedForward, cols: c.width),
                down: try loader.matrix(p + "ffn_down.weight", rows: c.width, cols: c.feedForward),
                slidingWindow: c.slidingWindow > 0 && (i + 1) % slidingWindowPattern != 0))
        }
        self.blocks = blocks
        try loader.rejectUnused()
    }

    public func forward(tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], state s: RunState, pool: WorkerPool) {
        let n = tokens.count
        precondition(n > 0 && n <= s.maxTokens, "token count exceeds the run state")
        precondition(segments.count <= s.maxSequences && segments.reduce(0) { $0 + $1.count } == n, "bad batch")
        let c = config
        let d = c.width, kvd = c.kvWidth, qd = c.heads * c.headDim, ff = c.feedForward, hd = c.headDim
        // Decode tokens may use 8-bit activations, prompt chunks stay in exact float math.
        let exactFrom = ForwardPass.exactFrom(segments, s), exact = exactFrom < n

        ForwardPass.embed(tokens, tokenEmbedding, into: s, scale: Float(d).squareRoot())
        ForwardPass.prepare(segments, s, headDim: hd, ropeBase: c.ropeBase, localRopeBase: localRopeBase)

        for (l, b) in blocks.enumerated() {
            // Attention, with per-head RMSNorm on queries and keys and a norm on its output.
            Kernels.rmsNorm(s.x, weight: b.attnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.matmul(pool, b.wq, s.xb, tokens: n, s.q, exactFrom: exactFrom)
            Kernels.matmul(pool, b.wk, s.xb, tokens: n, s.keys, exactFrom: exactFrom)
            Kernels.matmul(pool, b.wv, s.xb, tokens: n, s.values, exactFrom: exactFrom)
            Kernels.rmsNorm(s.q, weight: b.qNorm, s.q, rows: n * c.heads, width: hd, eps: c.normEpsilon)
            Kernels.rmsNorm(s.keys, weight: b.kNorm, s.keys, rows: n * c.kvHeads, width: hd, eps: c.normEpsilon)
            let table = b.slidingWindow ? s.localRopeTable : s.ropeTable
            Kernels.ropeNeox(s.q, tokens: n, heads: c.heads, headDim: hd, table: table, stride: qd)
            Kernels.ropeNeox(s.keys, tokens: n, heads: c.kvHeads, headDim: hd, table: table, stride: kvd)
            ForwardPass.storeKeysValues(segments, layer: l, keys: s.keys, values: s.values, width: kvd,
                                        window: b.slidingWindow ? c.slidingWindow : 0, descriptors: s.attentionSegments)
            Kernels.attention(pool, q: s.q, segments: s.attentionSegments, count: segments.count, heads: c.heads,
                              kvHeads: c.kvHeads, headDim: hd, kvStride: kvd, out: s.att)
            Kernels.matmul(pool, b.wo, s.att, tokens: n, s.xb, exactFrom: exactFrom)
            Kernels.rmsNorm(s.xb, weight: b.postAttnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.add(s.x, s.xb, count: n * d)

            // GeGLU MLP, normed before and after.
            Kernels.rmsNorm(s.x, weight: b.ffnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.matmul(pool, b.gate, s.xb, tokens: n, s.hidden, exactFrom: exactFrom)
            Kernels.matmul(pool, b.up, s.xb, tokens: n, s.hidden2, exactFrom: exactFrom)
            Kernels.geglu(s.hidden, s.hidden2, count: n * ff)
            Kernels.matmul(pool, b.down, s.hidden, tokens: n, s.xb, exactFrom: exactFrom)
            Kernels.rmsNorm(s.xb, weight: b.postFfnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.add(s.x, s.xb, count: n * d)
        }

        ForwardPass.logits(segments, s, norm: outputNorm, output: output, eps: c.normEpsilon, pool: pool, exact: exact)
    }
}
