import LLMModel
import Synchronization

/// Why a generation ended, with OpenAI's `finish_reason` spelling.
public enum FinishReason: String, Sendable {
    case stop, length, cancelled, error
}

/// Something that happened to a request, delivered on the engine thread in order.
public enum GenerationEvent: Sendable {
    /// New text (may be empty when a token completes no character yet) and the token id.
    case token(text: String, id: Int)
    /// The end: reason and token counts. Always the last event.
    case finished(FinishReason, Usage)
}

/// Token counts of one request.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// A request handed to the engine: prompt tokens, sampling, limits, and where events go.
public final class GenerationRequest: Sendable {
    public let id: String
    public let promptTokens: [Int]
    public let maxTokens: Int
    public let sampling: SamplingParameters
    public let stop: [String]
    /// Keep generating past end-of-generation tokens (for benchmarks).
    public let ignoreEOS: Bool
    /// Called on the engine thread for every event; must not block.
    public let onEvent: @Sendable (GenerationEvent) -> Void
    let cancelled = Atomic<Bool>(false)
    /// When the request reached the engine (for queue time and TTFT).
    public let arrival: ContinuousClock.Instant

    public init(id: String, promptTokens: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
                ignoreEOS: Bool = false, onEvent: @escaping @Sendable (GenerationEvent) -> Void) {
        self.id = id
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.ignoreEOS = ignoreEOS
        self.onEvent = onEvent
        arrival = .now
    }

    /// Asks the engine to stop this request at its next step (e.g. the client went away).
    public func cancel() { cancelled.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}
