import Foundation
import LLMModel
import LLMTensor
import Testing

/// Runs a prompt as one prefill of `split` tokens and then one token at a time, returning the logits
/// after the prefill and after every decode step (`exact`: float activations in decode steps too).
func logitsAlong(_ model: any LanguageModel, _ ids: [Int], split: Int, threads: Int, exact: Bool = false) -> [[Float]] {
    let c = model.config
    let pool = WorkerPool(threads: model.requiredThreads ?? threads)
    let state = RunState(config: c, maxTokens: ids.count)
    state.exactActivations = exact
    let cache = KVCache(config: c, capacity: ids.count)
    var out: [[Float]] = []
    let tokens = ids.map(Int32.init)
    tokens.withUnsafeBufferPointer { all in
        model.forward(tokens: UnsafeBufferPointer(rebasing: all[0..<split]), position: 0, cache: cache, state: state, pool: pool)
        out.append(Array(state.logitsBuffer))
        for p in split..<ids.count {
            model.forward(tokens: UnsafeBufferPointer(rebasing: all[p..<p + 1]), position: p, cache: cache, state: state, pool: pool)
            out.append(Array(state.logitsBuffer))
        }
    }
    return out
}

/// max |a - b| / max |b|
func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    let scale = b.map(abs).max() ?? 1
    return (zip(a, b).map { abs($0 - $1) }.max() ?? .infinity) / max(scale, 1e-6)
}

/// The Mixtral-style mixture-of-experts forward pass against the numpy reference
/// (scripts/reference/llama.py) on a small random model (scripts/make_moe_fixture.py), with the
/// experts on one worker and spread over 2 and 3 tensor-parallel workers (expert parallelism).
@Suite("Mixture of experts against the numpy reference")
struct MoETests {
    struct Case: Decodable, Sendable {
        let ids: [Int]
        let logits: [[Float]]
    }

    static let cases: [Case] = {
        struct File: Decodable { let cases: [Case] }
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: TestModel.fixture("moe-tiny/cases.json"))).cases
    }()

    static func model(tensorParallel: Int) throws -> any LanguageModel {
        try ModelRegistry.load(try GGUFFile(path: TestModel.fixture("moe-tiny/model.gguf").path), tensorParallel: tensorParallel)
    }

    @Test("logits of every position within 1e-3 relative (float activations), 8-bit decode steps within 0.1",
          arguments: [1, 2, 3])
    func matchesReference(tensorParallel: Int) throws {
        let m = try Self.model(tensorParallel: tensorParallel)
        #expect(m.config.expertCount == 4 && m.config.expertsUsed == 2)
        for c in Self.cases {
            let split = c.ids.count / 2
            for exact in [true, false] {
                for (i, logits) in logitsAlong(m, c.ids, split: split, threads: 2, exact: exact).enumerated() {
                    let diff = relativeDifference(logits, c.logits[split - 1 + i])
                    #expect(diff <= (exact || i == 0 ? 1e-3 : 0.1), "TP=\(tensorParallel) position \(split - 1 + i): \(diff)")
                }
            }
        }
    }

    @Test("tensor-parallel logits equal one worker's within 1e-3 relative (float activations)", arguments: [2, 3])
    func parallelEqualsSingle(tensorParallel: Int) throws {
        let one = try Self.model(tensorParallel: 1), many = try Self.model(tensorParallel: tensorParallel)
        let ids = Self.cases[1].ids
        for (a, b) in zip(logitsAlong(many, ids, split: 20, threads: 2, exact: true),
                          logitsAlong(one, ids, split: 20, threads: 2, exact: true)) {
            #expect(relativeDifference(a, b) <= 1e-3)
        }
    }

    @Test("expert tensors of the wrong shape or count are named at load time")
    func corruptExperts() throws {
        var data = try Data(contentsOf: TestModel.fixture("moe-tiny/model.gguf"))
        // expert_used_count (a uint32 after its key) set beyond expert_count.
        let key = Data("llama.expert_used_count".utf8)
        let at = data.range(of: key)!.upperBound + 4
        data.replaceSubrange(at..<at + 4, with: [9, 0, 0, 0])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moe-bad-\(UUID()).gguf").path
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.badMetadata(key: "llama.expert_used_count", reason: "must be 1...expert_count (4)")) {
            _ = try ModelRegistry.load(try GGUFFile(path: path))
        }
    }
}

/// Tensor parallelism on the default model: 9 query heads and 3 KV heads do not divide by 2, so the
/// workers get 4 and 5 heads and both keep the KV head they share.
@Suite("Tensor parallelism on SmolLM2-135M")
struct TensorParallelTests {
    @Test("the plan splits heads as evenly as possible and replicates shared KV heads")
    func plan() throws {
        let c = TestModel.shared.model.config
        let two = try ShardPlan(config: c, workers: 2, align: 32)
        #expect(two.workers.map(\.heads) == [0..<4, 4..<9])
        #expect(two.workers.map(\.kvHeads) == [0..<2, 1..<3])
        #expect(two.kvCacheWidth == 4 * 64)
        #expect(two.workers.map(\.feedForward) == [0..<768, 768..<1536])
        #expect(throws: ModelError.parallelism("degree 10 exceeds the model's 9 attention heads (each worker needs one)")) {
            _ = try ShardPlan(config: c, workers: 10, align: 32)
        }
    }

    @Test("logits at TP=2 and TP=3 equal TP=1's within 1e-3 relative (prefill and float-activation decode)",
          arguments: [2, 3])
    func equalsSingle(tensorParallel: Int) throws {
        let m = TestModel.shared
        let tp = try TensorParallelLlama(m.model as! LlamaModel, workers: tensorParallel)
        #expect(tp.workerWeightBytes.count == tensorParallel && tp.workerWeightBytes.allSatisfy { $0 > 10_000_000 })
        let ids = ReferenceCase.all[0].ids + ReferenceCase.all[1].ids
        let single = logitsAlong(m.model, ids, split: ids.count - 4, threads: 2, exact: true)
        let parallel = logitsAlong(tp, ids, split: ids.count - 4, threads: 2, exact: true)
        for (i, (a, b)) in zip(parallel, single).enumerated() {
            let diff = relativeDifference(a, b)
            #expect(diff <= 1e-3, "step \(i) relative difference \(diff)")
        }
    }

    @Test("an architecture without tensor parallelism is refused by name")
    func refusesOtherArchitectures() throws {
        #expect(throws: ModelError.parallelism("architecture 'gemma3' runs on one worker only (tensor parallelism supports: llama)")) {
            _ = try ModelRegistry.load(try GGUFFile(path: ModelStore().path(of: ModelStore.gemma3)), tensorParallel: 2)
        }
    }
}
