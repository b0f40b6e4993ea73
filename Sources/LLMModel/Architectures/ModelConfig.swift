/// Shape and hyper-parameters of a decoder-only transformer, read from GGUF metadata
/// (`{arch}.block_count`, `{arch}.embedding_length`, …).
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var layers: Int
    public var width: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var feedForward: Int
    public var normEpsilon: Float
    public var ropeBase: Float
    public var vocabularySize: Int
    public var contextLength: Int
    /// Positions a sliding-window layer attends to (`{arch}.attention.sliding_window`; 0: none).
    public var slidingWindow: Int

    /// Mixture of experts: experts per layer (`{arch}.expert_count`; 0 for a dense MLP) and how
    /// many each token uses (`{arch}.expert_used_count`).
    public var expertCount: Int
    public var expertsUsed: Int
    /// Floats per position per layer in the KV cache: kvWidth, or more under tensor parallelism when
    /// workers keep their own copies of shared KV heads.
    public var kvCacheWidth: Int

    public var kvWidth: Int { kvHeads * headDim }

    /// Reads the config of architecture `arch` from GGUF metadata, validating it.
    public init(gguf: GGUFFile, architecture arch: String) throws(ModelError) {
        architecture = arch
        layers = try gguf.int("\(arch).block_count")
        width = try gguf.int("\(arch).embedding_length")
        heads = try gguf.int("\(arch).attention.head_count")
        kvHeads = gguf.metadata["\(arch).attention.head_count_kv"]?.int ?? heads
        headDim = gguf.metadata["\(arch).attention.key_length"]?.int
            ?? (heads > 0 ? width / heads : 0)
        feedForward = try gguf.int("\(arch).feed_forward_length")
        normEpsilon = try gguf.float("\(arch).attention.layer_norm_rms_epsilon")
        ropeBase = gguf.metadata["\(arch).rope.freq_base"]?.double.map(Float.init) ?? 10000
        contextLength = gguf.metadata["\(arch).context_length"]?.int ?? 2048
        slidingWindow = gguf.metadata["\(arch).attention.sliding_window"]?.int ?? 0
        expertCount = gguf.metadata["\(arch).expert_count"]?.int ?? 0
        expertsUsed = gguf.metadata["\(arch).expert_used_count"]?.int ?? 0
        vocabularySize = gguf.metadata["\(arch).vocab_size"]?.int
            ?? gguf.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0

        func check(_ ok: Bool, _ key: String, _ reason: String) throws(ModelError) {
            if !ok { throw .badMetadata(key: "\(arch).\(key)", reason: reason) }
        }
        try check(layers > 0 && layers <= 1024, "block_count", "must be 1...1024")
        try check(width > 0 && width <= 65536, "embedding_length", "must be 1...65536")
        try check(heads > 0 && width % heads == 0 || headDim > 0, "attention.head_count", "must divide the width")
        try check(kvHeads > 0 && heads % kvHeads == 0, "attention.head_count_kv", "must divide the head count")
        try check(headDim > 0 && headDim % 2 == 0, "attention.key_length", "head dimension must be even")
        try check(feedForward > 0, "feed_forward_length", "must be positive")
        try check(vocabularySize > 0, "vocab_size", "must be positive")
        try check(contextLength > 0, "context_length", "must be positive")
        try check(slidingWindow >= 0, "attention.sliding_window", "must not be negative")
        try check(expertCount >= 0 && expertCount <= 1024, "expert_count", "must be 0...1024")
        try check(expertCount == 0 || (expertsUsed >= 1 && expertsUsed <= expertCount), "expert_used_count",
                  "must be 1...expert_count (\(expertCount))")
        kvCacheWidth = kvHeads * headDim
        if let v = gguf.metadata["\(arch).attention.value_length"]?.int {
            try check(v == headDim, "attention.value_length", "must equal attention.key_length (\(headDim))")
        }
    }
}
