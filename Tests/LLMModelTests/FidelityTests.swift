import Foundation
import LLMModel
import LLMTensor
import Testing

/// The forward pass and tokenizer against fp32 reference outputs of the default model.
@Suite("Fidelity against the SmolLM2-135M reference")
struct FidelityTests {
    @Test("token ids equal the reference exactly", arguments: ReferenceCase.all)
    func tokenIDs(_ c: ReferenceCase) {
        #expect(TestModel.shared.tokenizer.encode(c.prompt, addBOS: false) == c.ids)
    }

    @Test("last-position logits: same top-5, correlation ≥ 0.999, max |diff| ≤ 0.5", arguments: ReferenceCase.all)
    func logits(_ c: ReferenceCase) {
        let m = TestModel.shared
        let logits = Self.lastLogits(m, c.ids)
        let ref = c.referenceLogits
        #expect(logits.count == ref.count)
        #expect(Self.top(logits, 5) == Self.top(ref, 5))
        let corr = Self.pearson(logits, ref)
        let maxDiff = zip(logits, ref).map { abs($0 - $1) }.max() ?? .infinity
        print("fidelity: \(c) max abs diff \(maxDiff) correlation \(corr)")
        #expect(corr >= 0.999, "correlation \(corr)")
        #expect(maxDiff <= 0.5, "max abs diff \(maxDiff)")
    }

    @Test("greedy continuation matches the reference for at least 4 tokens", arguments: ReferenceCase.all)
    func greedy(_ c: ReferenceCase) {
        let m = TestModel.shared
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let state = RunState(config: cfg, maxTokens: c.ids.count)
        let cache = KVCache(config: cfg, capacity: c.ids.count + 8)
        let prompt = c.ids.map(Int32.init)
        prompt.withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 0, cache: cache, state: state, pool: pool) }
        var out: [Int] = []
        for i in 0..<4 {
            let next = Self.top(Array(state.logitsBuffer), 1)[0]
            out.append(next)
            let t = Int32(next)
            withUnsafePointer(to: t) {
                m.model.forward(tokens: UnsafeBufferPointer(start: $0, count: 1), position: prompt.count + i,
                                cache: cache, state: state, pool: pool)
            }
        }
        #expect(out == Array(c.reference_greedy_ids.prefix(4)))
    }

    static func lastLogits(_ m: LoadedModel, _ ids: [Int]) -> [Float] {
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let state = RunState(config: cfg, maxTokens: ids.count)
        let cache = KVCache(config: cfg, capacity: ids.count)
        ids.map(Int32.init).withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 0, cache: cache, state: state, pool: pool) }
        return Array(state.logitsBuffer)
    }

    static func top(_ v: [Float], _ k: Int) -> [Int] {
        Array(v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(k))
    }

    static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0.0) { $0 + Double($1) } / n, mb = b.reduce(0.0) { $0 + Double($1) } / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let x = Double(a[i]) - ma, y = Double(b[i]) - mb
            sab += x * y; saa += x * x; sbb += y * y
        }
        return sab / (saa * sbb).squareRoot()
    }
}

@Suite("Batched forward pass")
struct BatchedForwardTests {
    @Test("several sequences in one pass give the logits they give alone")
    func batchEqualsSingle() {
        let m = TestModel.shared
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let prompts = ReferenceCase.all.prefix(3).map { $0.ids }
        let alone = prompts.map { FidelityTests.lastLogits(m, $0) }
        let state = RunState(config: cfg, maxTokens: prompts.reduce(0) { $0 + $1.count }, maxSequences: prompts.count)
        let caches = prompts.map { KVCache(config: cfg, capacity: $0.count + 1) }
        let segments = zip(prompts, caches).map { BatchSegment(cache: $1, position: 0, count: $0.count) }
        let tokens = prompts.flatMap { $0 }.map(Int32.init)
        tokens.withUnsafeBufferPointer { m.model.forward(tokens: $0, segments: segments, state: state, pool: pool) }
        for i in prompts.indices {
            let row = Array(state.logits(row: i))
            let diff = zip(row, alone[i]).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-2, "sequence \(i): max diff \(diff)")
            #expect(FidelityTests.top(row, 1) == FidelityTests.top(alone[i], 1))
        }
    }
}

extension BatchedForwardTests {
    /// A decode step's logits alone (one token: the 8-bit row kernels), among 20 decodes (the 8-bit
    /// panel GEMM) and among 20 decodes followed by a prompt chunk (decodes 8-bit, the prompt exact).
    /// Each decode is run alone twice (exact, then 8-bit) so the cache holds the same keys either way.
    @Test("a decode step gives the logits it gives alone among many decodes and beside a prompt chunk")
    func decodeBatchEqualsSingle() {
        let m = TestModel.shared
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let cases = ReferenceCase.all
        let count = 20
        // Real contexts: a reference prompt plus the first k tokens of its greedy continuation, then
        // the next greedy token.
        let contexts = (0..<count).map { i -> ([Int], Int) in
            let c = cases[i % cases.count], k = i / cases.count
            return (c.ids + c.reference_greedy_ids.prefix(k), c.reference_greedy_ids[k])
        }
        let prompts = contexts.map(\.0)
        let extra = cases[0].ids
        let caches = prompts.map { KVCache(config: cfg, capacity: $0.count + 1) }
        let single = RunState(config: cfg, maxTokens: prompts.map(\.count).max()!)
        for (p, cache) in zip(prompts, caches) {
            p.map(Int32.init).withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 0, cache: cache, state: single, pool: pool) }
        }
        let next: [Int32] = contexts.map { Int32($0.1) }
        // Each decode alone, with 8-bit activations and in exact float math: how far 8-bit rounding
        // alone moves the logits.
        var alone: [[Float]] = [], rounding: [Float] = []
        for i in 0..<count {
            for exact in [true, false] {
                single.exactActivations = exact
                [next[i]].withUnsafeBufferPointer {
                    m.model.forward(tokens: $0, position: prompts[i].count, cache: caches[i], state: single, pool: pool)
                }
                if exact { rounding.append(0); alone.append(Array(single.logitsBuffer)); continue }
                rounding[i] = zip(single.logitsBuffer, alone[i]).map { abs($0 - $1) }.max()!
                alone[i] = Array(single.logitsBuffer)
            }
        }
        let decodes = (0..<count).map { BatchSegment(cache: caches[$0], position: prompts[$0].count, count: 1) }
        let batch = RunState(config: cfg, maxTokens: count + extra.count, maxSequences: count + 1)
        next.withUnsafeBufferPointer { m.model.forward(tokens: $0, segments: decodes, state: batch, pool: pool) }
        let inBatch = (0..<count).map { Array(batch.logits(row: $0)) }
        let extraCache = KVCache(config: cfg, capacity: extra.count)
        let mixed = decodes + [BatchSegment(cache: extraCache, position: 0, count: extra.count)]
        (next + extra.map(Int32.init)).withUnsafeBufferPointer { m.model.forward(tokens: $0, segments: mixed, state: batch, pool: pool) }
        let beside = (0..<count).map { Array(batch.logits(row: $0)) }
        let promptAlone = FidelityTests.lastLogits(m, extra)
        // The batch's output layer (Q8_0, no integer panel) runs in float where a lone decode's runs
        // 8-bit, so a row may differ from the lone decode by about the 8-bit rounding (bounded here by
        // twice it), and picks the same greedy token wherever the lone decode's lead is wider than that.
        for i in 0..<count {
            let bound = 2 * rounding[i] + 1e-2
            let ranked = FidelityTests.top(alone[i], 2)
            let lead = alone[i][ranked[0]] - alone[i][ranked[1]]
            for (name, row) in [("among decodes", inBatch[i]), ("beside a prompt", beside[i])] {
                let diff = zip(row, alone[i]).map { abs($0 - $1) }.max()!
                #expect(diff <= bound, "sequence \(i) \(name): max diff \(diff), 8-bit rounding \(rounding[i])")
                if lead > 2 * bound {
                    #expect(FidelityTests.top(row, 1) == [ranked[0]], "sequence \(i) \(name): lead \(lead)")
                }
            }
        }
        // The prompt chunk stays in exact float math: the logits it gives alone.
        let promptRow = Array(batch.logits(row: count))
        let diff = zip(promptRow, promptAlone).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-3, "prompt beside decodes: max diff \(diff)")
    }
}

@Suite("Paged KV cache addressing")
struct PagedCacheTests {
    @Test("a scattered block table gives the same logits as a contiguous cache")
    func scattered() {
        let m = TestModel.shared
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let ids = ReferenceCase.all[5].ids  // 25 tokens: 7 blocks of 4
        let contiguous = FidelityTests.lastLogits(m, ids)
        let storage = KVBlockStorage(config: cfg, blockSize: 4, blockCount: 32)
        let cache = KVCache(storage: storage, blocks: [31, 3, 17, 8, 25, 0, 12])
        let state = RunState(config: cfg, maxTokens: ids.count)
        // Prefill in two chunks to cross block boundaries mid-block.
        let tokens = ids.map(Int32.init)
        tokens[0..<10].withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 0, cache: cache, state: state, pool: pool) }
        tokens[10...].withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 10, cache: cache, state: state, pool: pool) }
        let paged = Array(state.logitsBuffer)
        let diff = zip(paged, contiguous).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-2, "max diff \(diff)")
        #expect(FidelityTests.top(paged, 5) == FidelityTests.top(contiguous, 5))
    }
}
