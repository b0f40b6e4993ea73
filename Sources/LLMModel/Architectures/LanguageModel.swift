import CKernels
import LLMTensor

/// A loaded decoder-only model: immutable weights plus a forward pass that appends tokens to a KV
/// cache and produces next-token logits. Implementations live one per file, by architecture.
public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }

    /// One forward pass over a batch of sequences (continuous batching): `tokens` holds each
    /// segment's tokens in order; every segment appends its keys/values to its own cache at its
    /// positions. For the segments that want logits, the logits of their last token are left in
    /// `state.logits`, one row of `vocabularySize` per such segment, in segment order.
    func forward(tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], state: RunState, pool: WorkerPool)

    /// Threads the forward pass needs its pool to have exactly (tensor-parallel workers), or nil
    /// when any pool size works.
    var requiredThreads: Int? { get }
}

/// One sequence's part of a batched forward pass.
public struct BatchSegment: @unchecked Sendable {
    public var cache: KVCache
    /// Position of the segment's first token (the cache holds every position before it).
    public var position: Int
    public var count: Int
    public var wantsLogits: Bool

    public init(cache: KVCache, position: Int, count: Int, wantsLogits: Bool = true) {
        self.cache = cache
        self.position = position
        self.count = count
        self.wantsLogits = wantsLogits
    }
}

extension LanguageModel {
    public var requiredThreads: Int? { nil }

    /// Runs one sequence's `tokens` at positions `position ..< position + tokens.count` and leaves
    /// the logits of the last token in `state.logits`.
    public func forward(tokens: UnsafeBufferPointer<Int32>, position: Int, cache: KVCache, state: RunState, pool: WorkerPool) {
        forward(tokens: tokens, segments: [BatchSegment(cache: cache, position: position, count: tokens.count)],
                state: state, pool: pool)
    }
}

/// Storage for keys and values in fixed-size blocks of positions, shared by the sequences of an
/// engine (paged KV cache): for each layer, `blockCount` blocks of `blockSize` positions of
/// `kvWidth` floats. Which block holds which positions of a sequence is that sequence's block table.
public final class KVBlockStorage: @unchecked Sendable {
    public let layers: Int
    public let kvWidth: Int
    public let blockSize: Int
    public let blockCount: Int
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    public init(config: ModelConfig, blockSize: Int, blockCount: Int) {
        layers = config.layers
        kvWidth = config.kvCacheWidth
        self.blockSize = max(1, blockSize)
        self.blockCount = max(1, blockCount)
        let count = layers * self.blockCount * self.blockSize * kvWidth
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes one position takes (keys and values of every layer).
    public static func bytesPerPosition(_ config: ModelConfig) -> Int {
        2 * config.layers * config.kvCacheWidth * MemoryLayout<Float>.size
    }

    public var byteCount: Int { 2 * layers * blockCount * blockSize * kvWidth * MemoryLayout<Float>.size }

    @inline(__always) func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * blockCount * blockSize * kvWidth }
    @inline(__always) func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * blockCount * blockSize * kvWidth }
}

/// One sequence's view of the KV cache: a block table into a KVBlockStorage. Its capacity is
/// fixed when it is made (the engine reserves every block a request can need up front).
public final class KVCache: @unchecked Sendable {
    public let storage: KVBlockStorage
    /// Block ids, in position order.
    public let blocks: UnsafeMutablePointer<Int32>
    public let blockCount: Int
    public var capacity: Int { blockCount * storage.blockSize }

    /// A sequence using `blocks` of a shared storage.
    public init(storage: KVBlockStorage, blocks: [Int32]) {
        self.storage = storage
        blockCount = blocks.count
        self.blocks = .allocate(capacity: max(1, blocks.count))
        for (i, b) in blocks.enumerated() { self.blocks[i] = b }
    }

    /// A standalone cache of at least `capacity` positions with storage of its own.
    public convenience init(config: ModelConfig, capacity: Int, blockSize: Int = 16) {
        let n = (max(1, capacity) + blockSize - 1) / blockSize
        self.init(storage: KVBlockStorage(config: config, blockSize: blockSize, blockCount: n), blocks: (0..<n).map(Int32.init))
    }

    deinit { blocks.deallocate() }

    /// Offset in rows (of kvWidth floats) of `position` inside a layer's storage.
    @inline(__always) func row(_ position: Int) -> Int {
        let bs = storage.blockSize
        return Int(blocks[position / bs]) * bs + position % bs
    }
}

/// Preallocated activations for forward passes of up to `maxTokens` tokens from up to
/// `maxSequences` sequences at once, so a step allocates nothing per token.
public final class RunState: @unchecked Sendable {
    public let maxTokens: Int
    public let maxSequences: Int
    /// Logits rows (one per segment that asked for them), `vocabularySize` floats each.
    public let logits: UnsafeMutablePointer<Float>
    let x, xb, q, att: UnsafeMutablePointer<Float>
    let keys, values: UnsafeMutablePointer<Float>
    let hidden, hidden2: UnsafeMutablePointer<Float>
    let ropeTable: UnsafeMutablePointer<Float>
    let lastRows: UnsafeMutablePointer<Float>
    let attentionSegments: UnsafeMutablePointer<ck_attn_segment>
    public let vocabularySize: Int
    /// A second rotary table (after the first's maxTokens rows) for layers with their own base
    /// frequency (Gemma's sliding-window layers).
    var localRopeTable: UnsafeMutablePointer<Float> { ropeTable + maxTokens * headDim }
    let headDim: Int
    /// Routing and gather/scatter buffers of mixture-of-experts layers (nil for dense models).
    let moe: MoEScratch?
    /// Float activations in every matmul, also where 8-bit ones would be used (decode steps).
    public var exactActivations = false
    /// Buffers a model keeps per run state (tensor-parallel workers'), made on first use.
    var attachment: AnyObject?

    public init(config: ModelConfig, maxTokens: Int, maxSequences: Int = 1) {
        self.maxTokens = max(1, maxTokens)
        self.maxSequences = max(1, maxSequences)
        let n = self.maxTokens
        vocabularySize = config.vocabularySize
        headDim = config.headDim
        let qWidth = config.heads * config.headDim
        x = .allocate(capacity: n * config.width)
        xb = .allocate(capacity: n * max(config.width, qWidth))
        q = .allocate(capacity: n * qWidth)
        att = .allocate(capacity: n * qWidth)
        keys = .allocate(capacity: n * config.kvWidth)
        values = .allocate(capacity: n * config.kvWidth)
        hidden = .allocate(capacity: n * config.feedForward)
        hidden2 = .allocate(capacity: n * config.feedForward)
        ropeTable = .allocate(capacity: 2 * n * config.headDim)
        moe = config.expertCount > 0 ? MoEScratch(config: config, maxTokens: n) : nil
        lastRows = .allocate(capacity: self.maxSequences * config.width * 2)
        attentionSegments = .allocate(capacity: self.maxSequences)
        logits = .allocate(capacity: self.maxSequences * config.vocabularySize)
    }

    deinit {
        for p in [x, xb, q, att, keys, values, hidden, hidden2, ropeTable, lastRows, logits] { p.deallocate() }
        attentionSegments.deallocate()
    }

    /// The first logits row of the last forward pass.
    public var logitsBuffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logits, count: vocabularySize) }

    /// Logits row `i` (the i-th segment that wanted logits).
    public func logits(row i: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: logits + i * vocabularySize, count: vocabularySize)
    }
}
