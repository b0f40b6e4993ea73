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

    init(request: GenerationRequest, cache: KVCache) {
        self.request = request
        self.cache = cache
        sampler = Sampler(parameters: request.sampling)
        stopMatcher = StopMatcher(stops: request.stop)
    }

    var position: Int { prefilled + max(0, generated - 1) }
    var isPrefilling: Bool { prefilled < request.promptTokens.count }
}
