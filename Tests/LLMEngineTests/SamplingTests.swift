import LLMEngine
import Testing

@Suite("Sampling and stop sequences")
struct SamplingTests {
    static func logits(_ v: [Float]) -> [Float] { v }

    func sample(_ p: SamplingParameters, _ v: [Float], times: Int = 1) -> [Int] {
        var s = Sampler(parameters: p)
        return (0..<times).map { _ in
            var copy = v
            return copy.withUnsafeMutableBufferPointer { s.sample($0) }
        }
    }

    @Test("temperature 0 is argmax; top_k 1 and tiny top_p are greedy too")
    func greedy() {
        let v: [Float] = [0.1, 3, 2.9, -1]
        #expect(sample(.greedy, v) == [1])
        #expect(sample(SamplingParameters(temperature: 1, topK: 1, seed: 1), v, times: 20).allSatisfy { $0 == 1 })
        #expect(sample(SamplingParameters(temperature: 1, topP: 0.01, seed: 1), v, times: 20).allSatisfy { $0 == 1 })
    }

    @Test("a seed makes sampling reproducible; top_k limits the choices")
    func seeded() {
        let v: [Float] = (0..<100).map { Float($0 % 10) / 3 }
        let p = SamplingParameters(temperature: 1, seed: 42)
        #expect(sample(p, v, times: 50) == sample(p, v, times: 50))
        let k = sample(SamplingParameters(temperature: 2, topK: 3, seed: 7), v, times: 200)
        let top3 = Set(v.indices.sorted { v[$0] > v[$1] }.prefix(3))
        #expect(k.allSatisfy { top3.contains($0) })
    }

    @Test("frequency and presence penalties push repeated tokens down")
    func penalties() {
        var s = Sampler(parameters: SamplingParameters(temperature: 0, presencePenalty: 2, frequencyPenalty: 0))
        s.accept(0)
        var v: [Float] = [1.0, 0.5]
        #expect(v.withUnsafeMutableBufferPointer { s.sample($0) } == 1)
    }

    @Test("stop strings split across pieces are found and never emitted")
    func stopMatcher() {
        var m = StopMatcher(stops: ["END", "\n\n"])
        var out = ""
        var stopped = false
        for piece in ["Hello E", "N", "D world"] {
            let (e, s) = m.feed(piece)
            out += e
            if s { stopped = true; break }
        }
        #expect(stopped && out == "Hello ")
        var n = StopMatcher(stops: ["END"])
        #expect(n.feed("Hello EN").emit == "Hello ")
        #expect(n.feed("x").emit == "ENx")
        #expect(n.flush() == "")
    }
}
