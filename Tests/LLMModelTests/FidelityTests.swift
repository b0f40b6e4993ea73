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
