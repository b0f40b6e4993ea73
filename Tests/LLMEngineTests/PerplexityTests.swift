import Foundation
import LLMEngine
import LLMModel
import Testing

@Suite("Perplexity")
struct PerplexityTests {
    static let text: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try! String(contentsOf: root.appendingPathComponent("docs/data/perplexity.txt"), encoding: .utf8)
    }()

    @Test func ordinaryTextScoresFarBetterThanShuffledWords() throws {
        let model = EngineTests.model
        let r = try Perplexity.measure(model: model, text: Self.text, context: 256, maxChunks: 2, threads: 2)
        #expect(r.chunks == 2 && r.scoredTokens == 2 * 127)
        #expect(r.perplexity > 5 && r.perplexity < 60, "SmolLM2-135M on plain English: \(r.perplexity)")
        // The same words in a scrambled order are much harder to predict.
        var rng = SystemRandomNumberGenerator()
        var words = Self.text.split(separator: " ")
        words.shuffle(using: &rng)
        let shuffled = try Perplexity.measure(model: model, text: words.joined(separator: " "), context: 256, maxChunks: 2, threads: 2)
        #expect(shuffled.perplexity > 4 * r.perplexity)
    }

    @Test func tooShortATextIsNamed() {
        #expect(throws: Perplexity.Failure.self) {
            try Perplexity.measure(model: EngineTests.model, text: "Too short.", context: 256, threads: 2)
        }
    }
}
