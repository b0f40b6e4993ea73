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
    case exceedsCacheMemory(needed: Int, budget: Int)
    case shuttingDown

    public var description: String {
        switch self {
        case .promptTooLong(let n, let limit):
            "the prompt has \(n) tokens; this model's context is \(limit) tokens (prompt plus at least one generated token)"
        case .emptyPrompt: "the prompt is empty"
        case .queueFull(let limit): "the engine is at capacity (\(limit) requests waiting); retry later"
        case .exceedsCacheMemory(let needed, let budget):
            "the request needs \(mebibytes(needed)) of KV cache (prompt plus max_tokens) but the engine's cache holds \(mebibytes(budget)) (--kv-cache-memory); lower max_tokens"
        case .shuttingDown: "the engine is shutting down"
        }
    }

    private func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

/// One model replica's generation loop (continuous batching). Requests are queued from any thread;
/// a dedicated thread runs the model. Every step is one forward pass over the running batch: one
/// token for each decoding sequence plus prompt chunks of prefilling ones (up to `prefillChunk`
/// tokens); new requests join at any step and finished ones leave at once. Tokens go out through
/// the request's callback (no actor hop, no task per token).
public final class Engine: @unchecked Sendable {
    public let model: LoadedModel
    public let configuration: EngineConfiguration
    let pool: WorkerPool
    let state: RunState

    private struct Queues {
        var waiting: [GenerationRequest] = []
        var running = 0
        var stopping = false
    }
    private let queues = Mutex(Queues())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finishedAll = DispatchSemaphore(value: 0)
    private let metrics: EngineMetrics
    /// KV cache bytes per cached position (all layers, keys and values).
    let bytesPerPosition: Int
    /// The paged KV cache's allocator (engine thread only, apart from its immutable storage).
    private let blockManager: KVBlockManager

    /// Positions a request may use: prompt + max_tokens, capped by the context length.
    func positions(_ r: GenerationRequest) -> Int {
        min(configuration.contextLength, r.promptTokens.count + r.maxTokens)
    }

    public init(model: LoadedModel, configuration: EngineConfiguration = .init()) {
        self.model = model
        var config = configuration
        config.contextLength = min(config.contextLength, model.model.config.contextLength)
        config.prefillChunk = max(1, config.prefillChunk)
        config.maxRunning = max(1, config.maxRunning)
        self.configuration = config
        pool = WorkerPool.forModel(required: model.model.requiredThreads, threads: config.threads)
        state = RunState(config: model.model.config, maxTokens: config.prefillChunk + config.maxRunning,
                         maxSequences: config.maxRunning)
        bytesPerPosition = KVBlockStorage.bytesPerPosition(model.model.config)
        let blockCount = max(1, config.kvCacheBytes / (config.kvBlockSize * bytesPerPosition))
        blockManager = KVBlockManager(storage: KVBlockStorage(config: model.model.config, blockSize: config.kvBlockSize,
                                                              blockCount: blockCount),
                                      prefixCaching: config.prefixCaching)
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
        let storage = blockManager.storage
        let needBlocks = (positions(request) + storage.blockSize - 1) / storage.blockSize
        guard needBlocks <= storage.blockCount else {
            throw .exceedsCacheMemory(needed: needBlocks * storage.blockSize * bytesPerPosition, budget: storage.byteCount)
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

    /// Prompt tokens looked up in the prefix cache and found there, since start.
    public var prefixCacheStats: (queries: Int, hits: Int) { prefixCounts.withLock { $0 } }
    private let prefixCounts = Mutex((queries: 0, hits: 0))

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
        var tokens: [Int32] = []
        tokens.reserveCapacity(state.maxTokens)
        var segments: [BatchSegment] = []
        var owners: [SequenceState] = []
        while true {
            // Admit waiting requests (FIFO) while a slot and all the KV blocks they can need are
            // free; cached prefix blocks are shared instead of recomputed.
            let (admitted, stop) = queues.withLock { q -> ([SequenceState], Bool) in
                var out: [SequenceState] = []
                while running.count + out.count < configuration.maxRunning, let next = q.waiting.first,
                      let reservation = blockManager.reserve(prompt: next.promptTokens, positions: positions(next)) {
                    q.waiting.removeFirst()
                    out.append(SequenceState(request: next, cache: KVCache(storage: blockManager.storage, blocks: reservation.blocks),
                                             limit: positions(next), cachedPositions: reservation.cachedPositions,
                                             blockHashes: reservation.hashes))
                }
                q.running = running.count + out.count
                return (out, q.stopping && q.waiting.isEmpty && running.isEmpty && out.isEmpty)
            }
            if stop { break }
            for seq in admitted {
                running.append(seq)
                metrics.queueTime.recordInterval(since: seq.request.arrival)
                metrics.prefixQueries.increment(by: seq.request.promptTokens.count)
                metrics.prefixHits.increment(by: seq.prefilled)
                prefixCounts.withLock { $0.queries += seq.request.promptTokens.count; $0.hits += seq.prefilled }
                metrics.promptTokens.increment(by: seq.prefilled)  // cached prompt tokens count too
            }
            if !admitted.isEmpty {
                let (run, wait) = queues.withLock { ($0.running, $0.waiting.count) }
                metrics.running.record(run)
                metrics.waiting.record(wait)
                metrics.cacheUsage.record(blockManager.usage)
            }
            if running.isEmpty {
                wakeup.wait()
                continue
            }

            // Build the step's batch: decodes first (one token each), then prompt chunks.
            tokens.removeAll(keepingCapacity: true)
            segments.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            for seq in running where !seq.isPrefilling {
                if seq.request.isCancelled { finish(seq, .cancelled); continue }
                let position = seq.prefilled + seq.generated - 1
                if position >= seq.limit { finish(seq, .length); continue }
                tokens.append(seq.nextInput)
                segments.append(BatchSegment(cache: seq.cache, position: position, count: 1))
                owners.append(seq)
            }
            var budget = configuration.prefillChunk
            for seq in running where seq.isPrefilling && budget > 0 {
                if seq.request.isCancelled { finish(seq, .cancelled); continue }
                let prompt = seq.request.promptTokens
                let start = seq.prefilled
                let end = min(prompt.count, start + budget)
                for i in start..<end { tokens.append(Int32(prompt[i])) }
                segments.append(BatchSegment(cache: seq.cache, position: start, count: end - start,
                                             wantsLogits: end == prompt.count))
                owners.append(seq)
                budget -= end - start
            }

            if !segments.isEmpty {
                tokens.withUnsafeBufferPointer { model.model.forward(tokens: $0, segments: segments, state: state, pool: pool) }
                var row = 0
                for (seq, seg) in zip(owners, segments) {
                    if seq.isPrefilling {
                        seq.prefilled += seg.count
                        metrics.promptTokens.increment(by: seg.count)
                        seq.registeredBlocks = blockManager.register(seq.cache, hashes: seq.blockHashes,
                                                                     computed: seq.prefilled, from: seq.registeredBlocks)
                    }
                    guard seg.wantsLogits else { continue }
                    let token = seq.sampler.sample(state.logits(row: row))
                    row += 1
                    emit(seq, token: token)
                }
            }

            let before = running.count
            for seq in running where seq.finishedReason != nil { blockManager.release(seq.cache) }
            running.removeAll { $0.finishedReason != nil }
            if running.count != before {
                queues.withLock { $0.running = running.count }
                metrics.running.record(running.count)
                metrics.cacheUsage.record(blockManager.usage)
            }
        }
        finishedAll.signal()
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
        if seq.generated >= r.maxTokens || seq.prefilled + seq.generated >= seq.limit {
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
