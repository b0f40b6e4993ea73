import Dispatch
import LLMModel

/// Generates one completion outside any server (the `scalellm generate` command), streaming text
/// to a callback and reporting prefill and decode speed.
public enum OneShot {
    public struct Stats: Sendable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var finishReason: FinishReason
        /// Arrival to first token: the prefill.
        public var prefillSeconds: Double
        /// First to last token.
        public var decodeSeconds: Double
        public var prefillTokensPerSecond: Double { Double(promptTokens) / max(prefillSeconds, 1e-9) }
        public var decodeTokensPerSecond: Double { Double(max(0, completionTokens - 1)) / max(decodeSeconds, 1e-9) }
    }

    /// Runs `promptTokens` through a fresh engine and waits for the end.
    public static func generate(model: LoadedModel, promptTokens: [Int], maxTokens: Int,
                                sampling: SamplingParameters, stop: [String] = [], ignoreEOS: Bool = false,
                                configuration: EngineConfiguration = .init(),
                                onText: @escaping @Sendable (String) -> Void) async throws -> Stats {
        let engine = Engine(model: model, configuration: configuration)
        let done = DispatchSemaphore(value: 0)
        let box = StatsBox()
        let start = ContinuousClock.now
        let request = GenerationRequest(id: "oneshot", promptTokens: promptTokens, maxTokens: maxTokens,
                                        sampling: sampling, stop: stop, ignoreEOS: ignoreEOS) { event in
            switch event {
            case .token(let text, _):
                box.mark()
                if !text.isEmpty { onText(text) }
            case .finished(let reason, let usage):
                box.finish(reason, usage)
                done.signal()
            }
        }
        try engine.submit(request)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { done.wait(); c.resume() }
        }
        await engine.shutdown()
        return box.stats(start: start)
    }
}

/// Collects timings from the engine thread.
private final class StatsBox: @unchecked Sendable {
    private var first: ContinuousClock.Instant?
    private var last: ContinuousClock.Instant?
    private var reason: FinishReason = .error
    private var usage = Usage(promptTokens: 0, completionTokens: 0)

    func mark() {
        let now = ContinuousClock.now
        if first == nil { first = now }
        last = now
    }

    func finish(_ r: FinishReason, _ u: Usage) {
        reason = r
        usage = u
        if first == nil { mark() }
    }

    func stats(start: ContinuousClock.Instant) -> OneShot.Stats {
        OneShot.Stats(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, finishReason: reason,
                      prefillSeconds: ((first ?? start) - start).seconds,
                      decodeSeconds: ((last ?? start) - (first ?? start)).seconds)
    }
}
