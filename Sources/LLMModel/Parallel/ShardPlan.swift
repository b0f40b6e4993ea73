/// How a model's layers are divided among tensor-parallel workers: each worker gets a contiguous,
/// as-even-as-possible range of query heads, the KV heads those heads read (a KV head shared by
/// two workers is kept by both), a range of MLP rows, and a range of experts (expert parallelism).
public struct ShardPlan: Sendable, Equatable {
    /// One worker's share.
    public struct Worker: Sendable, Equatable {
        public var heads: Range<Int>
        public var kvHeads: Range<Int>
        /// Offset, in floats, of this worker's KV heads inside a KV cache row.
        public var kvOffset: Int
        public var feedForward: Range<Int>
        public var experts: Range<Int>
    }

    public let workers: [Worker]
    /// Floats per position per layer in the KV cache (replicated KV heads counted once per worker).
    public let kvCacheWidth: Int

    /// The plan for `count` workers; `align` is the block length the MLP split must respect (the
    /// down projection's columns are cut at those boundaries), `outputAlign` the block length of
    /// the attention output projection, whose columns are cut between heads.
    public init(config c: ModelConfig, workers count: Int, align: Int, outputAlign: Int = 1) throws(ModelError) {
        guard count >= 1 else { throw .parallelism("the degree must be at least 1 (got \(count))") }
        guard count <= c.heads else {
            throw .parallelism("degree \(count) exceeds the model's \(c.heads) attention heads (each worker needs one)")
        }
        let group = c.heads / c.kvHeads
        // Heads are handed out in units whose columns fill whole blocks of the output projection.
        let unit = outputAlign / Self.gcd(c.headDim, outputAlign)
        let units = c.heads / unit
        guard c.heads % unit == 0, units >= count else {
            throw .parallelism("degree \(count) exceeds the \(units) groups of \(unit) heads the attention output can be cut into")
        }
        let blocks = c.feedForward / align
        guard c.expertCount > 0 || blocks >= count else {
            throw .parallelism("degree \(count) exceeds the \(blocks) blocks of \(align) MLP rows the model can be cut into")
        }
        var out: [Worker] = []
        var offset = 0
        for w in 0..<count {
            let heads = (w * units / count * unit)..<((w + 1) * units / count * unit)
            let kv = (heads.lowerBound / group)..<((heads.upperBound - 1) / group + 1)
            let ff = (w * blocks / count * align)..<(w == count - 1 ? c.feedForward : (w + 1) * blocks / count * align)
            let experts = (w * c.expertCount / count)..<((w + 1) * c.expertCount / count)
            out.append(Worker(heads: heads, kvHeads: kv, kvOffset: offset, feedForward: ff, experts: experts))
            offset += kv.count * c.headDim
        }
        workers = out
        kvCacheWidth = offset
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
