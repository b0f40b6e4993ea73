import Dispatch
import Foundation
import LLMModel
import LLMTensor
import Metrics
import Synchronization

/// Why the engine refused a request.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    case promptTooLong(tokens: Int, limit: Int)
    case emptyPrompt
    case queueFull(limit: Int)
    case shuttingDown

    public var description: String {
        switch self {
        case .promptTooLong(let n, let limit):
            "the prompt has \(n) tokens; this model's context is \(limit) tokens (prompt plus at least one generated token)"
        case .emptyPrompt: "the prompt is empty"
        case .queueFull(let limit): "the engine is at capacity (\(limit) requests waiting); retry later"
        case .shuttingDown: "the engine is shutting down"
        }
    }
}

/// One model replica's generation loop. Requests are queued from any thread; a dedicated thread
/// runs the model, interleaving up to `maxRunning` sequences a step at a time, and delivers each
/// token through the request's callback (no actor hop, no task per token).
public final class Engine: @unchecked Sendable {
    public let model: LoadedModel
    public let configuration: EngineConfiguration
    let pool: WorkerPool
    let state: RunState

    private struct Queues {
        var waiting: [GenerationRequest] = []
        var running = 0
        var stopping = false
        var stopped = false
    }
    private let queues = Mutex(Queues())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finishedAll = DispatchSemaphore(value: 0)
    private let metrics: EngineMetrics

    public init(model: LoadedModel, configuration: EngineConfiguration = .init()) {
        self.model = model
        var config = configuration
        config.contextLength = min(config.contextLength, model.model.config.contextLength)
        config.prefillChunk = max(1, config.prefillChunk)
        config.maxRunning = max(1, config.maxRunning)
        self.configuration = config
        pool = WorkerPool(threads: config.threads)
        state = RunState(config: model.model.config, maxTokens: config.prefillChunk)
        metrics = EngineMetrics(modelName: model.name)
        // The thread keeps the engine alive until `shutdown()` ends the loop.
        let thread = Thread { self.loop() }
        thread.name = "scalellm-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Longest prompt accepted (one position is kept for the first generated token).
    public var maxPromptTokens: Int { configuration.contextLength - 1 }

    /// Queues a request. Throws when it can never run or the queue is full; otherwise every
    /// request gets exactly one `.finished` event.
    public func submit(_ request: GenerationRequest) throws(EngineError) {
        guard !request.promptTokens.isEmpty else { throw .emptyPrompt }
        guard request.promptTokens.count <= maxPromptTokens else {
            throw .promptTooLong(tokens: request.promptTokens.count, limit: configuration.contextLength)
        }
        let result: EngineError? = queues.withLock { q in
            if q.stopping { return .shuttingDown }
            if q.waiting.count >= configuration.maxWaiting { return .queueFull(limit: configuration.maxWaiting) }
            q.waiting.append(request)
            return nil
        }
        if let result { throw result }
        metrics.waiting.record(queues.withLock { $0.waiting.count })
        wakeup.signal()
    }

    /// Requests generating now and waiting for a slot.
    public var load: (running: Int, waiting: Int) { queues.withLock { ($0.running, $0.waiting.count) } }

    /// Stops taking requests, lets queued and running ones finish, then stops the thread.
    public func shutdown() async {
        let already = queues.withLock { q in
            defer { q.stopping = true }
            return q.stopping
        }
        if !already { wakeup.signal() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finishedAll.wait()
                self.finishedAll.signal()
                c.resume()
            }
        }
    }

    // MARK: the loop (engine thread only)

    private func loop() {
        var running: [SequenceState] = []
        while true {
            let (admitted, stop) = queues.withLock { q -> ([GenerationRequest], Bool) in
                var out: [GenerationRequest] = []
                while running.count + out.count < configuration.maxRunning, !q.waiting.isEmpty {
                    out.append(q.waiting.removeFirst())
                }
                q.running = running.count + out.count
                return (out, q.stopping && q.waiting.isEmpty && running.isEmpty && out.isEmpty)
            }
            if stop { break }
            for r in admitted {
                let capacity = min(configuration.contextLength, r.promptTokens.count + r.maxTokens)
                running.append(SequenceState(request: r, cache: KVCache(config: model.model.config, capacity: capacity)))
                metrics.queueTime.recordInterval(since: r.arrival)
            }
            if !admitted.isEmpty {
                let (run, wait) = queues.withLock { ($0.running, $0.waiting.count) }
                metrics.running.record(run)
                metrics.waiting.record(wait)
            }
            if running.isEmpty {
                wakeup.wait()
                continue
            }
            for seq in running { step(seq) }
            let before = running.count
            running.removeAll { $0.finishedReason != nil }
            if running.count != before {
                queues.withLock { $0.running = running.count }
                metrics.running.record(running.count)
            }
        }
        queues.withLock { $0.stopped = true }
        finishedAll.signal()
    }

    /// One step of one sequence: a prefill chunk, or one decoded token.
    private func step(_ seq: SequenceState) {
        let r = seq.request
        if r.isCancelled { return finish(seq, .cancelled) }
        if seq.isPrefilling {
            let start = seq.prefilled
            let end = min(r.promptTokens.count, start + configuration.prefillChunk)
            var chunk = [Int32](repeating: 0, count: end - start)
            for i in start..<end { chunk[i - start] = Int32(r.promptTokens[i]) }
            chunk.withUnsafeBufferPointer { model.model.forward(tokens: $0, position: start, cache: seq.cache, state: state, pool: pool) }
            seq.prefilled = end
            metrics.promptTokens.increment(by: end - start)
            if seq.isPrefilling { return }
        } else {
            let position = seq.prefilled + seq.generated - 1
            if position >= seq.cache.capacity { return finish(seq, .length) }
            withUnsafePointer(to: seq.nextInput) { p in
                model.model.forward(tokens: UnsafeBufferPointer(start: p, count: 1), position: position,
                                    cache: seq.cache, state: state, pool: pool)
            }
        }
        let token = seq.sampler.sample(UnsafeMutableBufferPointer(start: state.logits, count: model.model.config.vocabularySize))
        emit(seq, token: token)
    }

    private func emit(_ seq: SequenceState, token: Int) {
        let r = seq.request
        let now = ContinuousClock.now
        if let last = seq.lastTokenAt {
            metrics.interToken.recordInterval(since: last, until: now)
        } else {
            seq.firstTokenAt = now
            metrics.timeToFirstToken.recordInterval(since: r.arrival, until: now)
        }
        seq.lastTokenAt = now
        seq.generated += 1
        metrics.generationTokens.increment()
        if !r.ignoreEOS && model.tokenizer.endOfGenerationIDs.contains(token) { return finish(seq, .stop) }
        seq.sampler.accept(token)
        seq.nextInput = Int32(token)
        let text = seq.decoder.append(model.tokenizer.bytes(of: token))
        let (out, stopped) = seq.stopMatcher.feed(text)
        r.onEvent(.token(text: out, id: token))
        if stopped { return finish(seq, .stop, flushText: false) }
        if seq.generated >= r.maxTokens || seq.prefilled + seq.generated >= seq.cache.capacity {
            finish(seq, .length)
        }
    }

    private func finish(_ seq: SequenceState, _ reason: FinishReason, flushText: Bool = true) {
        guard seq.finishedReason == nil else { return }
        seq.finishedReason = reason
        if flushText && reason != .cancelled {
            let (tail, _) = seq.stopMatcher.feed(seq.decoder.flush())
            let rest = tail + seq.stopMatcher.flush()
            if !rest.isEmpty { seq.request.onEvent(.token(text: rest, id: -1)) }
        }
        let usage = Usage(promptTokens: seq.request.promptTokens.count, completionTokens: seq.generated)
        metrics.finished(reason, since: seq.request.arrival)
        seq.request.onEvent(.finished(reason, usage))
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant, until end: ContinuousClock.Instant = .now) {
        let d = end - start
        recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
}
