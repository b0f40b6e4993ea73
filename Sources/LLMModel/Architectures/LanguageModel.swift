import LLMTensor

/// A loaded decoder-only model: immutable weights plus a forward pass that appends tokens to a KV
/// cache and produces next-token logits. Implementations live one per file, by architecture.
public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }

    /// Runs `tokens` at positions `position ..< position + tokens.count` (the cache must already
    /// hold positions before `position`), writes their keys/values into `cache`, and leaves the
    /// logits of the last token in `state.logits`.
    func forward(tokens: UnsafeBufferPointer<Int32>, position: Int, cache: KVCache, state: RunState, pool: WorkerPool)
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

/// Preallocated activations for forward passes of up to `maxTokens` tokens at once, so a decode
/// step allocates nothing.
public final class RunState: @unchecked Sendable {
    public let maxTokens: Int
    public let logits: UnsafeMutablePointer<Float>
    let x, xb, q, att: UnsafeMutablePointer<Float>
    let hidden, hidden2: UnsafeMutablePointer<Float>
    let ropeTable: UnsafeMutablePointer<Float>
    let vocabularySize: Int

    public init(config: ModelConfig, maxTokens: Int) {
        self.maxTokens = max(1, maxTokens)
        let n = self.maxTokens
        vocabularySize = config.vocabularySize
        let qWidth = config.heads * config.headDim
        x = .allocate(capacity: n * config.width)
        xb = .allocate(capacity: n * max(config.width, qWidth))
        q = .allocate(capacity: n * qWidth)
        att = .allocate(capacity: n * qWidth)
        hidden = .allocate(capacity: n * config.feedForward)
        hidden2 = .allocate(capacity: n * config.feedForward)
        ropeTable = .allocate(capacity: n * config.headDim)
        logits = .allocate(capacity: config.vocabularySize)
    }

    deinit {
        for p in [x, xb, q, att, hidden, hidden2, ropeTable, logits] { p.deallocate() }
    }

    /// The last forward pass's logits.
    public var logitsBuffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logits, count: vocabularySize) }
}
