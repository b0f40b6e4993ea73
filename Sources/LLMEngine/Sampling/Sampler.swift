/// Picks the next token from logits: penalties, temperature, top-k, top-p, then a seeded draw.
/// Holds its scratch buffers so a step allocates nothing once warmed up.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256
    /// How often each token has been generated so far (for the penalties).
    private var counts: [Int32: Int32] = [:]
    private var candidates: [(Float, Int32)] = []

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        var seed = parameters.seed ?? UInt64.random(in: .min ... .max)
        rng = Xoshiro256(seed: &seed)
    }

    /// Records a generated token (for presence/frequency penalties).
    public mutating func accept(_ token: Int) { counts[Int32(token), default: 0] += 1 }

    /// The next token. `logits` may be modified (penalties and temperature are applied in place).
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        let p = parameters
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (token, count) in counts {
                logits[Int(token)] -= p.presencePenalty + p.frequencyPenalty * Float(count)
            }
        }
        if p.temperature <= 0 { return Self.argmax(logits) }

        // Softmax with temperature.
        let invT = 1 / p.temperature
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        var sum: Float = 0
        for i in logits.indices {
            let e = ((logits[i] - maxLogit) * invT).exp()
            logits[i] = e
            sum += e
        }
        let invSum = 1 / sum
        for i in logits.indices { logits[i] *= invSum }

        if p.topK <= 0 && p.topP >= 1 { return draw(logits) }

        // Candidates above a threshold, lowered until they hold at least top_p of the mass, so the
        // nucleus is exact without sorting the whole vocabulary.
        var threshold: Float = p.topK > 0 ? 0 : 1e-4
        while true {
            candidates.removeAll(keepingCapacity: true)
            var mass: Float = 0
            for i in logits.indices where logits[i] >= threshold {
                candidates.append((logits[i], Int32(i)))
                mass += logits[i]
            }
            if mass >= p.topP || threshold == 0 { break }
            threshold = threshold < 1e-9 ? 0 : threshold / 100
        }
        candidates.sort { $0.0 > $1.0 }
        var keep = candidates.count
        if p.topK > 0 { keep = min(keep, p.topK) }
        if p.topP < 1 {
            var cum: Float = 0
            for i in 0..<keep {
                cum += candidates[i].0
                if cum >= p.topP { keep = i + 1; break }
            }
        }
        var total: Float = 0
        for i in 0..<keep { total += candidates[i].0 }
        var r = rng.nextUnitFloat() * total
        for i in 0..<keep {
            r -= candidates[i].0
            if r <= 0 { return Int(candidates[i].1) }
        }
        return Int(candidates[keep - 1].1)
    }

    private mutating func draw(_ probs: UnsafeMutableBufferPointer<Float>) -> Int {
        var r = rng.nextUnitFloat()
        var last = 0
        for i in probs.indices where probs[i] > 0 {
            r -= probs[i]
            last = i
            if r <= 0 { return i }
        }
        return last
    }

    /// Index of the largest value (the lowest index on ties).
    public static func argmax(_ v: UnsafeMutableBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in v.indices where v[i] > bestValue { bestValue = v[i]; best = i }
        return best
    }
}

extension Float {
    @inline(__always) func exp() -> Float {
        #if canImport(Glibc)
        return Glibc.expf(self)
        #else
        return Darwin.expf(self)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xoshiro256** seeded through SplitMix64: small, fast and reproducible across platforms.
struct Xoshiro256: Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: inout UInt64) {
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(&seed), splitmix(&seed), splitmix(&seed), splitmix(&seed))
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }
}
