import Dispatch
import Foundation
import LLMEngine
import LLMModel
import Synchronization
import Testing

/// The engine loop on the real default model.
@Suite("Engine", .serialized)
struct EngineTests {
    static let model: LoadedModel = {
        let path = try! ModelStore().pull(log: { _ in })
        return try! LoadedModel(path: path)
    }()

    final class Collector: @unchecked Sendable {
        let lock = Mutex<(String, FinishReason?, Usage?)>(("", nil, nil))
        let done = DispatchSemaphore(value: 0)
        func handle(_ e: GenerationEvent) {
            switch e {
            case .token(let t, _): lock.withLock { $0.0 += t }
            case .finished(let r, let u):
                lock.withLock { $0.1 = r; $0.2 = u }
                done.signal()
            }
        }
        var result: (String, FinishReason?, Usage?) { lock.withLock { $0 } }
    }

    func request(_ prompt: String, max: Int, c: Collector, ignoreEOS: Bool = false) -> GenerationRequest {
        GenerationRequest(id: "t", promptTokens: Self.model.tokenizer.encode(prompt), maxTokens: max, sampling: .greedy,
                          ignoreEOS: ignoreEOS) { c.handle($0) }
    }

    @Test("greedy generation through the engine matches the reference text")
    func greedy() async throws {
        let engine = Engine(model: Self.model, configuration: .init(threads: 2))
        let c = Collector()
        try engine.submit(request("The capital of France is", max: 12, c: c))
        c.done.wait()
        #expect(c.result.0 == " Paris.\n\nThe answer is: 201")
        #expect(c.result.1 == .length && c.result.2 == Usage(promptTokens: 5, completionTokens: 12))
        await engine.shutdown()
    }

    @Test("interleaved requests each get exactly their own text; cancel stops one")
    func concurrentAndCancel() async throws {
        let engine = Engine(model: Self.model, configuration: .init(threads: 2, maxRunning: 2))
        let a = Collector(), b = Collector(), c = Collector()
        let long = request("Once upon a time", max: 1000, c: c, ignoreEOS: true)
        try engine.submit(long)
        try engine.submit(request("The capital of France is", max: 12, c: a))
        try engine.submit(request("The capital of France is", max: 12, c: b))
        long.cancel()
        a.done.wait(); b.done.wait(); c.done.wait()
        #expect(a.result.0 == " Paris.\n\nThe answer is: 201" && b.result.0 == a.result.0)
        #expect(c.result.1 == .cancelled && (c.result.2?.completionTokens ?? 1000) < 1000)
        for _ in 0..<100 where engine.load.running != 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(engine.load.running == 0 && engine.load.waiting == 0)
        await engine.shutdown()
    }

    @Test("a repeated prompt prefix is served from the prefix cache with the same output")
    func prefixCache() async throws {
        let engine = Engine(model: Self.model, configuration: .init(threads: 2, kvBlockSize: 4))
        let prompt = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let first = Collector(), second = Collector()
        try engine.submit(request(prompt, max: 8, c: first))
        first.done.wait()
        try engine.submit(request(prompt, max: 8, c: second))
        second.done.wait()
        #expect(first.result.0 == second.result.0 && first.result.0.contains("Paris"))
        #expect(engine.prefixCacheStats.hits >= 20, "\(engine.prefixCacheStats)")
        await engine.shutdown()
    }

    @Test("prompts longer than the context and full queues are refused")
    func refusals() async throws {
        let engine = Engine(model: Self.model, configuration: .init(threads: 1, contextLength: 32, maxWaiting: 0))
        let c = Collector()
        #expect(throws: EngineError.promptTooLong(tokens: 40, limit: 32)) {
            try engine.submit(GenerationRequest(id: "x", promptTokens: Array(repeating: 100, count: 40), maxTokens: 1,
                                               sampling: .greedy) { c.handle($0) })
        }
        #expect(throws: EngineError.queueFull(limit: 0)) { try engine.submit(request("Hi", max: 1, c: c)) }
        #expect(throws: EngineError.emptyPrompt) {
            try engine.submit(GenerationRequest(id: "x", promptTokens: [], maxTokens: 1, sampling: .greedy) { c.handle($0) })
        }
        await engine.shutdown()
        #expect(throws: EngineError.shuttingDown) { try engine.submit(request("Hi", max: 1, c: c)) }
    }

    @Test("a request whose KV cache can never fit the memory budget is refused, naming both sizes")
    func exceedsCacheMemory() async throws {
        // About one 16-position block fits in 1 MiB for this model (30 layers x 3 KV heads x 64 x 2 x 4 bytes a position).
        let engine = Engine(model: Self.model, configuration: .init(threads: 1, contextLength: 256, kvCacheBytes: 1 << 20, kvBlockSize: 16))
        let c = Collector()
        do {
            try engine.submit(GenerationRequest(id: "big", promptTokens: Array(repeating: 100, count: 40), maxTokens: 8,
                                               sampling: .greedy) { c.handle($0) })
            Issue.record("a 48-position request was accepted by a 1 MiB cache")
        } catch {
            guard case .exceedsCacheMemory(let needed, let budget) = error else { Issue.record("\(error)"); return }
            #expect(needed > budget && budget <= 1 << 20)
            #expect("\(error)".contains(String(format: "%.1f MiB", Double(budget) / 1_048_576)), "\(error)")
        }
        // A request that fits one block still runs.
        let small = request("Hi", max: 2, c: c)
        try engine.submit(small)
        await engine.shutdown()
    }
}
