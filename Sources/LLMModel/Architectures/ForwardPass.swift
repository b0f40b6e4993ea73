import CKernels
import LLMTensor

/// Steps every architecture's forward pass shares: embedding lookup, per-segment rotary tables and
/// attention descriptors, KV cache writes, and the logits of each segment's last token.
enum ForwardPass {
    /// The first batch row computed in exact float math: decode tokens (the leading one-token
    /// segments; the scheduler puts decodes first) may use 8-bit activations (Kernels.int8MaxTokens),
    /// prompt chunks after them stay exact; 0 with `exactActivations`.
    static func exactFrom(_ segments: [BatchSegment], _ s: RunState) -> Int {
        if s.exactActivations { return 0 }
        var decodes = 0
        for seg in segments {
            if seg.count != 1 { break }
            decodes += 1
        }
        return decodes
    }

    /// x = embedding rows of `tokens` (times `scale`).
    static func embed(_ tokens: UnsafeBufferPointer<Int32>, _ e: WeightMatrix, into s: RunState, scale: Float? = nil) {
        let d = e.cols
        for t in 0..<tokens.count {
            Kernels.dequantize(e.type, e.row(Int(tokens[t])), s.x + t * d, count: d)
        }
        if let scale { Kernels.scale(s.x, by: scale, count: tokens.count * d) }
    }

    /// Fills the rotary table(s) and the attention descriptors of `segments` (their k/v pointers
    /// are set per layer by `storeKeysValues`). With `localRopeBase`, `s.localRopeTable` gets a
    /// second table at that base.
    static func prepare(_ segments: [BatchSegment], _ s: RunState, headDim hd: Int, ropeBase: Float, localRopeBase: Float? = nil) {
        var offset = 0
        for (i, seg) in segments.enumerated() {
            precondition(seg.position + seg.count <= seg.cache.capacity, "KV cache overflow")
            Kernels.ropeTable(s.ropeTable + offset * hd, tokens: seg.count, headDim: hd, position: seg.position, base: ropeBase)
            if let localRopeBase {
                Kernels.ropeTable(s.localRopeTable + offset * hd, tokens: seg.count, headDim: hd, position: seg.position,
                                  base: localRopeBase)
            }
            s.attentionSegments[i] = ck_attn_segment(k: nil, v: nil, pos0: Int32(seg.position), ntok: Int32(seg.count),
                                                     tok_offset: Int32(offset), blocks: UnsafePointer(seg.cache.blocks),
                                                     block_size: Int32(seg.cache.storage.blockSize), window: 0)
            offset += seg.count
        }
    }

    /// Copies the batch's keys and values (`width` floats per token) of layer `l` into each
    /// segment's cache at `kvOffset` within its rows, and points `descriptors` at that layer.
    static func storeKeysValues(_ segments: [BatchSegment], layer l: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                width: Int, kvOffset: Int = 0, window: Int = 0,
                                descriptors: UnsafeMutablePointer<ck_attn_segment>) {
        var offset = 0
        for (i, seg) in segments.enumerated() {
            let stride = seg.cache.storage.kvWidth
            let kCache = seg.cache.storage.keys(layer: l) + kvOffset, vCache = seg.cache.storage.values(layer: l) + kvOffset
            for t in 0..<seg.count {
                let row = seg.cache.row(seg.position + t)
                (kCache + row * stride).update(from: keys + (offset + t) * width, count: width)
                (vCache + row * stride).update(from: values + (offset + t) * width, count: width)
            }
            descriptors[i].k = UnsafePointer(kCache)
            descriptors[i].v = UnsafePointer(vCache)
            descriptors[i].window = Int32(window)
            offset += seg.count
        }
    }

    /// Output norm and projection of the last token of each segment that wants logits, into
    /// `s.logits` (one row per such segment, in order).
    static func logits(_ segments: [BatchSegment], _ s: RunState, norm: UnsafePointer<Float>, output: WeightMatrix,
                       eps: Float, pool: WorkerPool, exact: Bool) {
        let d = output.cols
        var rows = 0, offset = 0
        for seg in segments {
            offset += seg.count
            guard seg.wantsLogits else { continue }
            (s.lastRows + rows * d).update(from: s.x + (offset - 1) * d, count: d)
            rows += 1
        }
        guard rows > 0 else { return }
        let normed = s.lastRows + s.maxSequences * d
        Kernels.rmsNorm(s.lastRows, weight: norm, normed, rows: rows, width: d, eps: eps)
        Kernels.matmul(pool, output, normed, tokens: rows, s.logits, ldy: output.rows, exact: exact)
    }
}
