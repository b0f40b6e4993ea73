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
    /// Runs one sequence's `tokens` at positions `position ..< position + tokens.count` and leaves
    /// the logits of the last token in `state.logits`.
    public func forward(tokens: UnsafeBufferPointer<Int32>, position: Int, cache: KVCache, state: RunState, pool: WorkerPool) {
        forward(tokens: tokens, segments: [BatchSegment(cache: cache, position: position, count: tokens.count)],
                state: state, pool: pool)
    }
}

/// Per-sequence key/value cache: for each layer, keys and values of every position, position-major
/// (`kvWidth` floats per position). Sized for `capacity` positions up front.
public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvWidth: Int
    public let capacity: Int
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    public init(config: ModelConfig, capacity: Int) {
        layers = config.layers
        kvWidth = config.kvWidth
        self.capacity = capacity
        let count = layers * capacity * kvWidth
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes held.
    public var byteCount: Int { 2 * layers * capacity * kvWidth * MemoryLayout<Float>.size }

    @inline(__always) func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * kvWidth }
    @inline(__always) func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * kvWidth }
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

    public init(config: ModelConfig, maxTokens: Int, maxSequences: Int = 1) {
        self.maxTokens = max(1, maxTokens)
        self.maxSequences = max(1, maxSequences)
        let n = self.maxTokens
        vocabularySize = config.vocabularySize
        let qWidth = config.heads * config.headDim
        x = .allocate(capacity: n * config.width)
        xb = .allocate(capacity: n * max(config.width, qWidth))
        q = .allocate(capacity: n * qWidth)
        att = .allocate(capacity: n * qWidth)
        keys = .allocate(capacity: n * config.kvWidth)
        values = .allocate(capacity: n * config.kvWidth)
        hidden = .allocate(capacity: n * config.feedForward)
        hidden2 = .allocate(capacity: n * config.feedForward)
        ropeTable = .allocate(capacity: n * config.headDim)
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
