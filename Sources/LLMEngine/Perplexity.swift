import Foundation
import LLMModel
import LLMTensor

/// Perplexity of a model on a text, measured the way llama.cpp's `llama-perplexity` does so the two
/// are comparable: the text's tokens are cut into chunks of `context` tokens, each chunk's first
/// token is replaced by BOS (when the model has one), and the negative log-likelihood of each of the
/// second half's next tokens is averaged; perplexity is exp of that mean.
public enum Perplexity {
    public struct Result: Sendable {
        public var perplexity: Double
        /// Running perplexity after each chunk.
        public var perChunk: [Double]
        public var scoredTokens: Int
        public var chunks: Int
        public var seconds: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        case textTooShort(tokens: Int, needed: Int)
        public var description: String {
            switch self {
            case .textTooShort(let t, let n):
                "the text has \(t) tokens; at least \(n) (2 x --context) are needed for a chunk to score"
            }
        }
    }

    /// Scores up to `maxChunks` chunks (0: every whole chunk).
    public static func measure(model loaded: LoadedModel, text: String, context: Int = 512, maxChunks: Int = 0,
                               threads: Int = EngineConfiguration.defaultThreads,
                               progress: (Int, Double) -> Void = { _, _ in }) throws -> Result {
        let model = loaded.model
        let c = model.config
        let tokens = loaded.tokenizer.encode(text, addBOS: false, parseSpecial: false).map(Int32.init)
        guard tokens.count >= 2 * context else { throw Failure.textTooShort(tokens: tokens.count, needed: 2 * context) }
        var chunks = tokens.count / context
        if maxChunks > 0 { chunks = min(chunks, maxChunks) }
        let pool = WorkerPool.forModel(required: model.requiredThreads, threads: threads)
        // Every position is its own segment over one shared cache: one pass yields every token's logits.
        let state = RunState(config: c, maxTokens: context, maxSequences: context)
        let cache = KVCache(config: c, capacity: context)
        var nll = 0.0
        var scored = 0
        var perChunk: [Double] = []
        let start = ContinuousClock.now
        var chunk = Array(repeating: Int32(0), count: context)
        for i in 0..<chunks {
            for j in 0..<context { chunk[j] = tokens[i * context + j] }
            if let bos = loaded.tokenizer.bosID { chunk[0] = Int32(bos) }
            let segments = (0..<context).map { BatchSegment(cache: cache, position: $0, count: 1) }
            chunk.withUnsafeBufferPointer { model.forward(tokens: $0, segments: segments, state: state, pool: pool) }
            for j in (context / 2)..<(context - 1) {
                nll -= logSoftmax(state.logits(row: j), at: Int(chunk[j + 1]))
                scored += 1
            }
            let running = exp(nll / Double(scored))
            perChunk.append(running)
            progress(i + 1, running)
        }
        return Result(perplexity: exp(nll / Double(scored)), perChunk: perChunk, scoredTokens: scored,
                      chunks: chunks, seconds: (ContinuousClock.now - start).seconds)
    }

    /// log softmax(logits)[index], computed stably in Double.
    static func logSoftmax(_ logits: UnsafeMutableBufferPointer<Float>, at index: Int) -> Double {
        var maxValue = -Float.infinity
        for v in logits where v > maxValue { maxValue = v }
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v - maxValue)) }
        return Double(logits[index] - maxValue) - Foundation.log(sum)
    }
}
