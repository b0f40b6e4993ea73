import LLMModel
import LLMTensor

/// Single-stream speed of a model on this machine: prefill tokens/s for a prompt of a given length
/// and decode tokens/s, measured on the real forward pass (release builds only give real figures).
public enum Benchmark {
    public struct Result: Sendable {
        public var promptTokens: Int
        public var decodeTokens: Int
        public var prefillSeconds: Double
        public var decodeSeconds: Double
        /// Decoding `decodeTokens` from an empty context (llama-bench's tg figure).
        public var emptyContextDecodeSeconds: Double
        public var threads: Int
        public var prefillTokensPerSecond: Double { Double(promptTokens) / prefillSeconds }
        public var decodeTokensPerSecond: Double { Double(decodeTokens) / decodeSeconds }
        public var emptyContextDecodeTokensPerSecond: Double { Double(decodeTokens) / emptyContextDecodeSeconds }
    }

    /// Runs `repetitions` rounds (best round reported) of: prefill `promptTokens` tokens in chunks
    /// of `chunk`, then decode `decodeTokens` tokens greedily.
    public static func run(model loaded: LoadedModel, promptTokens: Int = 512, decodeTokens: Int = 128,
                           threads: Int = EngineConfiguration.defaultThreads, chunk: Int = 512,
                           repetitions: Int = 3) -> Result {
        let model = loaded.model
        let c = model.config
        let pool = WorkerPool.forModel(required: model.requiredThreads, threads: threads)
        let state = RunState(config: c, maxTokens: chunk)
        let cache = KVCache(config: c, capacity: promptTokens + decodeTokens + 1)
        // A deterministic prompt of ordinary text tokens.
        let text = String(repeating: "The quick brown fox jumps over the lazy dog while the cat sleeps. ", count: promptTokens / 8 + 8)
        var prompt = loaded.tokenizer.encode(text, addBOS: false, parseSpecial: false).map(Int32.init)
        prompt = Array(prompt.prefix(promptTokens))
        var best: Result?
        for _ in 0..<max(1, repetitions) {
            let clock = ContinuousClock()
            let prefill = clock.measure {
                var pos = 0
                while pos < prompt.count {
                    let end = min(prompt.count, pos + chunk)
                    prompt[pos..<end].withUnsafeBufferPointer {
                        model.forward(tokens: $0, position: pos, cache: cache, state: state, pool: pool)
                    }
                    pos = end
                }
            }
            var token = Int32(Sampler.argmax(UnsafeMutableBufferPointer(start: state.logits, count: c.vocabularySize)))
            let decode = clock.measure {
                for i in 0..<decodeTokens {
                    withUnsafePointer(to: token) {
                        model.forward(tokens: UnsafeBufferPointer(start: $0, count: 1), position: prompt.count + i,
                                      cache: cache, state: state, pool: pool)
                    }
                    token = Int32(Sampler.argmax(UnsafeMutableBufferPointer(start: state.logits, count: c.vocabularySize)))
                }
            }
            var next = prompt[0]
            let fresh = clock.measure {
                for i in 0..<decodeTokens {
                    withUnsafePointer(to: next) {
                        model.forward(tokens: UnsafeBufferPointer(start: $0, count: 1), position: i,
                                      cache: cache, state: state, pool: pool)
                    }
                    next = Int32(Sampler.argmax(UnsafeMutableBufferPointer(start: state.logits, count: c.vocabularySize)))
                }
            }
            let r = Result(promptTokens: prompt.count, decodeTokens: decodeTokens, prefillSeconds: prefill.seconds,
                           decodeSeconds: decode.seconds, emptyContextDecodeSeconds: fresh.seconds, threads: threads)
            if best == nil || r.decodeSeconds + r.prefillSeconds < best!.decodeSeconds + best!.prefillSeconds { best = r }
        }
        return best!
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
