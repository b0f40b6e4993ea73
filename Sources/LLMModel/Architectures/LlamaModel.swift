import CKernels
import LLMTensor

/// The Llama architecture (also SmolLM, TinyLlama, Mistral-style dense models, and Mixtral-style
/// mixtures of experts): pre-norm blocks of grouped-query attention with rotary embeddings and a
/// SwiGLU MLP (or experts, see MoEWeights), RMSNorm, optionally tied output embeddings. The GGUF
/// converter permutes Q/K rows so rotary pairs are adjacent.
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile
    let tokenEmbedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let blocks: [Block]

    struct Block: @unchecked Sendable {
        let attnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let ffnNorm: UnsafePointer<Float>
        let ffn: FeedForward
    }

    /// A block's MLP: one SwiGLU, or a mixture of experts.
    enum FeedForward: @unchecked Sendable {
        case dense(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix)
        case experts(MoEWeights)
    }

    public init(gguf: GGUFFile) throws(ModelError) {
        let arch = try gguf.string("general.architecture")
        let c = try ModelConfig(gguf: gguf, architecture: arch)
        config = c
        file = gguf
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
                wq: try loader.matrix(p + "attn_q.weight", rows: qWidth, cols: c.width),
                wk: try loader.matrix(p + "attn_k.weight", rows: c.kvWidth, cols: c.width),
                wv: try loader.matrix(p + "attn_v.weight", rows: c.kvWidth, cols: c.width),
                wo: try loader.matrix(p + "attn_output.weight", rows: c.width, cols: qWidth),
                ffnNorm: try loader.vector(p + "ffn_norm.weight", count: c.width),
                ffn: try Self.feedForward(&loader, prefix: p, config: c)))
        }
        self.blocks = blocks
        try loader.rejectUnused()
    }

    static func feedForward(_ loader: inout WeightLoader, prefix p: String, config c: ModelConfig) throws(ModelError) -> FeedForward {
        guard c.expertCount > 0 else {
            return .dense(gate: try loader.matrix(p + "ffn_gate.weight", rows: c.feedForward, cols: c.width),
                          up: try loader.matrix(p + "ffn_up.weight", rows: c.feedForward, cols: c.width),
                          down: try loader.matrix(p + "ffn_down.weight", rows: c.width, cols: c.feedForward))
        }
        let e = c.expertCount
        let router = try loader.matrix(p + "ffn_gate_inp.weight", rows: e, cols: c.width)
        return .experts(MoEWeights(
            router: router,
            gate: try loader.experts(p + "ffn_gate_exps.weight", count: e, rows: c.feedForward, cols: c.width),
            up: try loader.experts(p + "ffn_up_exps.weight", count: e, rows: c.feedForward, cols: c.width),
            down: try loader.experts(p + "ffn_down_exps.weight", count: e, rows: c.width, cols: c.feedForward),
            used: c.expertsUsed))
    }

    public func forward(tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], state s: RunState, pool: WorkerPool) {
        let n = tokens.count
        precondition(n > 0 && n <= s.maxTokens, "token count exceeds the run state")
        precondition(segments.count <= s.maxSequences && segments.reduce(0) { $0 + $1.count } == n, "bad batch")
        let c = config
        let d = c.width, kvd = c.kvWidth, qd = c.heads * c.headDim, ff = c.feedForward
        // Decode tokens may use 8-bit activations, prompt chunks stay in exact float math.
        let exactFrom = ForwardPass.exactFrom(segments, s), exact = exactFrom < n

        ForwardPass.embed(tokens, tokenEmbedding, into: s)
        ForwardPass.prepare(segments, s, headDim: c.headDim, ropeBase: c.ropeBase)

        for (l, b) in blocks.enumerated() {
            // Attention
            Kernels.rmsNorm(s.x, weight: b.attnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.matmul(pool, b.wq, s.xb, tokens: n, s.q, exactFrom: exactFrom)
            Kernels.matmul(pool, b.wk, s.xb, tokens: n, s.keys, exactFrom: exactFrom)
            Kernels.matmul(pool, b.wv, s.xb, tokens: n, s.values, exactFrom: exactFrom)
            Kernels.rope(s.q, tokens: n, heads: c.heads, headDim: c.headDim, table: s.ropeTable, stride: qd)
            Kernels.rope(s.keys, tokens: n, heads: c.kvHeads, headDim: c.headDim, table: s.ropeTable, stride: kvd)
            ForwardPass.storeKeysValues(segments, layer: l, keys: s.keys, values: s.values, width: kvd,
                                        descriptors: s.attentionSegments)
            Kernels.attention(pool, q: s.q, segments: s.attentionSegments, count: segments.count, heads: c.heads,
                              kvHeads: c.kvHeads, headDim: c.headDim, kvStride: kvd, out: s.att)
            Kernels.matmul(pool, b.wo, s.att, tokens: n, s.xb, exactFrom: exactFrom)
            Kernels.add(s.x, s.xb, count: n * d)

            // SwiGLU MLP, or experts
            Kernels.rmsNorm(s.x, weight: b.ffnNorm, s.xb, rows: n, width: d, eps: c.normEpsilon)
            switch b.ffn {
            case .dense(let gate, let up, let down):
                Kernels.matmul(pool, gate, s.xb, tokens: n, s.hidden, exactFrom: exactFrom)
                Kernels.matmul(pool, up, s.xb, tokens: n, s.hidden2, exactFrom: exactFrom)
                Kernels.swiglu(s.hidden, s.hidden2, count: n * ff)
                Kernels.matmul(pool, down, s.hidden, tokens: n, s.xb, exactFrom: exactFrom)
                Kernels.add(s.x, s.xb, count: n * d)
            case .experts(let moe):
                let scratch = s.moe!
                MixtureOfExperts.forward(pool, moe, experts: 0..<moe.count, x: s.xb, tokens: n, width: d,
                                         out: scratch.output, scratch: scratch, exact: exact)
                Kernels.add(s.x, scratch.output, count: n * d)
            }
        }

        ForwardPass.logits(segments, s, norm: outputNorm, output: output, eps: c.normEpsilon, pool: pool, exact: exact)
    }
}
