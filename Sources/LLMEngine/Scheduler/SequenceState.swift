import LLMModel

/// A running request inside the engine: its KV cache, position, sampler and text state.
final class SequenceState {
    let request: GenerationRequest
    let cache: KVCache
    var sampler: Sampler
    var decoder = StreamingDecoder()
    var stopMatcher: StopMatcher
    /// Prompt tokens already in the cache.
    var prefilled = 0
    /// Tokens generated so far.
    var generated = 0
    /// Next token to feed (the last sampled one) once prefill is done.
    var nextInput: Int32 = 0
    var firstTokenAt: ContinuousClock.Instant?
    var lastTokenAt: ContinuousClock.Instant?
    var finishedReason: FinishReason?

    /// Positions this sequence may use: prompt + max_tokens, capped by the context length.
    let limit: Int
    /// Chained hashes of the prompt's full blocks (prefix caching) and how many are registered.
    let blockHashes: [UInt64]
    var registeredBlocks: Int

    init(request: GenerationRequest, cache: KVCache, limit: Int, cachedPositions: Int, blockHashes: [UInt64]) {
        self.request = request
        self.cache = cache
        self.limit = limit
        self.blockHashes = blockHashes
        prefilled = cachedPositions
        registeredBlocks = cachedPositions / cache.storage.blockSize
        sampler = Sampler(parameters: request.sampling)
        stopMatcher = StopMatcher(stops: request.stop)
    }

    var isPrefilling: Bool { prefilled < request.promptTokens.count }
}
