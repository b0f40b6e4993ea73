import LLMEngine
import LLMModel
import OpenAIAPI
import Synchronization

/// The replica's model: loading, ready (with its engine and request validator) or failed.
/// /health answers in every state; /ready and the OpenAI routes only once ready.
final class ServingState: Sendable {
    enum Phase: Sendable {
        case loading
        case ready(Engine, RequestValidator, names: [String])
        case failed(String)
    }

    private let phase = Mutex(Phase.loading)

    var current: Phase { phase.withLock { $0 } }

    func set(_ p: Phase) { phase.withLock { $0 = p } }

    /// The engine, or a 503 saying why there is none.
    func ready() throws(OpenAIError) -> (Engine, RequestValidator, [String]) {
        switch current {
        case .ready(let e, let v, let names): return (e, v, names)
        case .loading: throw .notReady("the model is still loading")
        case .failed(let why): throw .notReady("the model failed to load: \(why)")
        }
    }
}
