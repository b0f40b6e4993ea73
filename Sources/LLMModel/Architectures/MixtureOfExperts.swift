import Foundation
import LLMTensor

/// One layer's mixture-of-experts MLP in the Mixtral layout: a router (`ffn_gate_inp`, one row per
/// expert) and per-expert SwiGLU weights (`ffn_gate_exps`, `ffn_up_exps`, `ffn_down_exps`, stored
/// as one 3-D tensor each). Each token goes to its `used` highest-scoring experts, weighted by the
/// softmax of their router scores renormalised over the chosen ones.
struct MoEWeights: @unchecked Sendable {
    let router: WeightMatrix
    let gate, up, down: [WeightMatrix]
    let used: Int

    var count: Int { gate.count }
}

/// Preallocated buffers for routing a batch of tokens and running it expert by expert.
final class MoEScratch: @unchecked Sendable {
    let routerLogits: UnsafeMutablePointer<Float>
    /// Each token's chosen experts and their weights, `used` per token.
    let chosen: UnsafeMutablePointer<Int32>
    let weights: UnsafeMutablePointer<Float>
    /// Rows of the tokens routed to one expert, gathered; their weights.
    let rows: UnsafeMutablePointer<Int32>
    let rowWeights: UnsafeMutablePointer<Float>
    let gathered, expertOut: UnsafeMutablePointer<Float>
    let hidden, hidden2: UnsafeMutablePointer<Float>
    /// The layer's output (tokens × width), for callers without a buffer of their own.
    let output: UnsafeMutablePointer<Float>

    init(config c: ModelConfig, maxTokens n: Int) {
        routerLogits = .allocate(capacity: n * max(1, c.expertCount))
        chosen = .allocate(capacity: n * max(1, c.expertsUsed))
        weights = .allocate(capacity: n * max(1, c.expertsUsed))
        rows = .allocate(capacity: n)
        rowWeights = .allocate(capacity: n)
        gathered = .allocate(capacity: n * c.width)
        expertOut = .allocate(capacity: n * c.width)
        hidden = .allocate(capacity: n * c.feedForward)
        hidden2 = .allocate(capacity: n * c.feedForward)
        output = .allocate(capacity: n * c.width)
    }

    deinit {
        for p in [routerLogits, weights, rowWeights, gathered, expertOut, hidden, hidden2, output] { p.deallocate() }
        chosen.deallocate()
        rows.deallocate()
    }
}

enum MixtureOfExperts {
    /// out (tokens × width) = Σ over each token's chosen experts among `experts` of weight × expert(x).
    /// With every expert this is the layer's MLP output; with a worker's share of the experts, its
    /// partial sum for the all-reduce (expert parallelism).
    static func forward(_ pool: WorkerPool, _ w: MoEWeights, experts: Range<Int>, x: UnsafePointer<Float>, tokens n: Int,
                        width d: Int, out: UnsafeMutablePointer<Float>, scratch s: MoEScratch, exact: Bool) {
        route(pool, w, x: x, tokens: n, scratch: s)
        out.update(repeating: 0, count: n * d)
        let k = w.used
        for e in experts {
            var count = 0
            for t in 0..<n {
                for j in 0..<k where s.chosen[t * k + j] == Int32(e) {
                    s.rows[count] = Int32(t)
                    s.rowWeights[count] = s.weights[t * k + j]
                    (s.gathered + count * d).update(from: x + t * d, count: d)
                    count += 1
                }
            }
            guard count > 0 else { continue }
            let ff = w.gate[e].rows
            Kernels.matmul(pool, w.gate[e], s.gathered, tokens: count, s.hidden, exact: exact)
            Kernels.matmul(pool, w.up[e], s.gathered, tokens: count, s.hidden2, exact: exact)
            Kernels.swiglu(s.hidden, s.hidden2, count: count * ff)
            Kernels.matmul(pool, w.down[e], s.hidden, tokens: count, s.expertOut, exact: exact)
            for i in 0..<count {
                let row = out + Int(s.rows[i]) * d, src = s.expertOut + i * d, wt = s.rowWeights[i]
                for c in 0..<d { row[c] += wt * src[c] }
            }
        }
    }

    /// Router scores, then each token's top `used` experts (ties to the lower index) with the
    /// softmax of their scores.
    static func route(_ pool: WorkerPool, _ w: MoEWeights, x: UnsafePointer<Float>, tokens n: Int, scratch s: MoEScratch) {
        let e = w.count, k = w.used
        Kernels.matmul(pool, w.router, x, tokens: n, s.routerLogits, exact: true)
        for t in 0..<n {
            let logits = s.routerLogits + t * e
            let ids = s.chosen + t * k, wts = s.weights + t * k
            for j in 0..<k {
                var best = -1
                for c in 0..<e {
                    var taken = false
                    for i in 0..<j where ids[i] == Int32(c) { taken = true; break }
                    if !taken && (best < 0 || logits[c] > logits[best]) { best = c }
                }
                ids[j] = Int32(best)
            }
            let top = logits[Int(ids[0])]
            var sum: Float = 0
            for j in 0..<k {
                wts[j] = expf(logits[Int(ids[j])] - top)
                sum += wts[j]
            }
            for j in 0..<k { wts[j] /= sum }
        }
    }

}
