import CKernels
import LLMTensor

/// A Llama-architecture model (dense or mixture of experts) run by N tensor-parallel workers, one
/// per pool thread, pinned: each owns its share of every layer (ShardPlan: query heads with their
/// KV heads, MLP rows, or whole experts), computes its part of attention and the MLP on its own core,
/// and the workers sum their partial outputs (an all-reduce at two barriers) after the attention
/// output projection and after the MLP. Embeddings, norms and the output projection are shared.
public final class TensorParallelLlama: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    public let plan: ShardPlan
    /// Weight bytes each worker reads in its layers (its own shard), excluding the shared
    /// embeddings, norms and output projection (`sharedWeightBytes`).
    public let workerWeightBytes: [Int]
    public let sharedWeightBytes: Int
    let base: LlamaModel
    let layers: [[LayerShard]]  // [worker][layer]
    let arena = WeightArena()
    let barrier: Barrier

    struct LayerShard: @unchecked Sendable {
        let wq, wk, wv, wo: WeightMatrix
        let ffn: FFN
    }

    enum FFN: @unchecked Sendable {
        case dense(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix)
        case experts(MoEWeights, Range<Int>)
    }

    public var requiredThreads: Int? { plan.workers.count }

    /// Splits `base` among `workers` workers; throws when the model cannot be split that way.
    public init(_ base: LlamaModel, workers: Int) throws(ModelError) {
        self.base = base
        let c = base.config
        var align = 1
        if case .dense(_, _, let down) = base.blocks.first?.ffn { align = down.type.blockSize }
        plan = try ShardPlan(config: c, workers: workers, align: align,
                             outputAlign: base.blocks.first?.wo.type.blockSize ?? 1)
        var cfg = c
        cfg.kvCacheWidth = plan.kvCacheWidth
        config = cfg
        barrier = Barrier(parties: workers)
        let hd = c.headDim
        var all: [[LayerShard]] = []
        var bytes: [Int] = []
        for w in plan.workers {
            var shards: [LayerShard] = []
            var total = 0
            for (l, b) in base.blocks.enumerated() {
                let p = "blk.\(l)."
                let q = (w.heads.lowerBound * hd)..<(w.heads.upperBound * hd)
                let kv = (w.kvHeads.lowerBound * hd)..<(w.kvHeads.upperBound * hd)
                let ffn: FFN
                switch b.ffn {
                case .dense(let gate, let up, let down):
                    ffn = .dense(gate: WeightArena.rows(gate, w.feedForward), up: WeightArena.rows(up, w.feedForward),
                                 down: try arena.columns(down, w.feedForward, name: p + "ffn_down.weight"))
                case .experts(let moe):
                    ffn = .experts(moe, w.experts)
                }
                let shard = LayerShard(wq: WeightArena.rows(b.wq, q), wk: WeightArena.rows(b.wk, kv), wv: WeightArena.rows(b.wv, kv),
                                       wo: try arena.columns(b.wo, q, name: p + "attn_output.weight"), ffn: ffn)
                total += shard.wq.byteCount + shard.wk.byteCount + shard.wv.byteCount + shard.wo.byteCount
                switch shard.ffn {
                case .dense(let g, let u, let d): total += g.byteCount + u.byteCount + d.byteCount
                case .experts(let m, let r):
                    total += m.router.byteCount + r.reduce(0) { $0 + m.gate[$1].byteCount + m.up[$1].byteCount + m.down[$1].byteCount }
                }
                shards.append(shard)
            }
            all.append(shards)
            bytes.append(total)
        }
        layers = all
        workerWeightBytes = bytes
        sharedWeightBytes = base.tokenEmbedding.byteCount
            + (base.output.data == base.tokenEmbedding.data ? 0 : base.output.byteCount)
    }

    /// Per-worker activations, kept with a run state.
    final class Buffers: @unchecked Sendable {
        final class Worker {
            let pool = WorkerPool(threads: 1)
            let xb, q, k, v, att, hidden, hidden2, partial: UnsafeMutablePointer<Float>
            let segments: UnsafeMutablePointer<ck_attn_segment>
            let moe: MoEScratch?

            init(_ c: ModelConfig, _ w: ShardPlan.Worker, tokens n: Int, sequences: Int) {
                let qd = w.heads.count * c.headDim, kvd = w.kvHeads.count * c.headDim
                let ff = c.expertCount > 0 ? 1 : w.feedForward.count
                xb = .allocate(capacity: n * c.width)
                q = .allocate(capacity: n * qd)
                k = .allocate(capacity: n * kvd)
                v = .allocate(capacity: n * kvd)
                att = .allocate(capacity: n * qd)
                hidden = .allocate(capacity: n * ff)
                hidden2 = .allocate(capacity: n * ff)
                partial = .allocate(capacity: n * c.width)
                segments = .allocate(capacity: sequences)
                moe = c.expertCount > 0 ? MoEScratch(config: c, maxTokens: n) : nil
            }

            deinit {
                for p in [xb, q, k, v, att, hidden, hidden2, partial] { p.deallocate() }
                segments.deallocate()
            }
        }

        let workers: [Worker]
        init(_ m: TensorParallelLlama, _ s: RunState) {
            workers = m.plan.workers.map { Worker(m.base.config, $0, tokens: s.maxTokens, sequences: s.maxSequences) }
        }
    }

    public func forward(tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], state s: RunState, pool: WorkerPool) {
        let n = tokens.count
        precondition(n > 0 && n <= s.maxTokens, "token count exceeds the run state")
        precondition(segments.count <= s.maxSequences && segments.reduce(0) { $0 + $1.count } == n, "bad batch")
        precondition(pool.threads == plan.workers.count,
                     "tensor parallelism over \(plan.workers.count) workers needs a pool of that many threads (got \(pool.threads))")
        let c = base.config
        // Decode tokens may use 8-bit activations, prompt chunks stay in exact float math.
        let exactFrom = ForwardPass.exactFrom(segments, s), exact = exactFrom < n
        for seg in segments {
            precondition(seg.cache.storage.kvWidth == plan.kvCacheWidth, "KV cache made for another model layout")
        }
        ForwardPass.embed(tokens, base.tokenEmbedding, into: s)
        ForwardPass.prepare(segments, s, headDim: c.headDim, ropeBase: c.ropeBase)
        let buffers: Buffers
        if let b = s.attachment as? Buffers { buffers = b } else { buffers = Buffers(self, s); s.attachment = buffers }
        pool.runEach { w in
            self.work(w, buffers: buffers, segments: segments, tokens: n, state: s, exactFrom: exactFrom)
        }

        ForwardPass.logits(segments, s, norm: base.outputNorm, output: base.output, eps: c.normEpsilon, pool: pool, exact: exact)
    }

    /// Worker `w`'s part of every layer.
    private func work(_ w: Int, buffers: Buffers, segments: [BatchSegment], tokens n: Int, state s: RunState, exactFrom: Int) {
        let c = base.config
        let me = plan.workers[w], b = buffers.workers[w], pool = b.pool
        let d = c.width, hd = c.headDim, stride = plan.kvCacheWidth
        let qd = me.heads.count * hd, kvd = me.kvHeads.count * hd
        let columns = (w * d / plan.workers.count)..<((w + 1) * d / plan.workers.count)
        for i in 0..<segments.count { b.segments[i] = s.attentionSegments[i] }
        for (l, layer) in layers[w].enumerated() {
            let block = base.blocks[l]
            // Attention over this worker's heads.
            Kernels.rmsNorm(s.x, weight: block.attnNorm, b.xb, rows: n, width: d, eps: c.normEpsilon)
            Kernels.matmul(pool, layer.wq, b.xb, tokens: n, b.q, exactFrom: exactFrom)
            Kernels.matmul(pool, layer.wk, b.xb, tokens: n, b.k, exactFrom: exactFrom)
            Kernels.matmul(pool, layer.wv, b.xb, tokens: n, b.v, exactFrom: exactFrom)
            Kernels.rope(b.q, tokens: n, heads: me.heads.count, headDim: hd, table: s.ropeTable, stride: qd)
            Kernels.rope(b.k, tokens: n, heads: me.kvHeads.count, headDim: hd, table: s.ropeTable, stride: kvd)
            ForwardPass.storeKeysValues(segments, layer: l, keys: b.k, values: b.v, width: kvd, kvOffset: me.kvOffset,
                                        descriptors: b.segments)
            Kernels.attention(pool, q: b.q, segments: b.segments, count: segments.count, heads: me.heads.count,
                              kvHeads: me.kvHeads.count, headDim: hd, kvStride: stride, out: b.att,
                              firstHead: me.heads.lowerBound, group: c.heads / c.kvHeads)
            Kernels.matmul(pool, layer.wo, b.att, tokens: n, b.partial, exactFrom: exactFrom)
            allReduce(w, buffers: buffers, columns: columns, tokens: n, state: s)

            // This worker's MLP rows, or its experts.
            Kernels.rmsNorm(s.x, weight: block.ffnNorm, b.xb, rows: n, width: d, eps: c.normEpsilon)
            switch layer.ffn {
            case .dense(let gate, let up, let down):
                Kernels.matmul(pool, gate, b.xb, tokens: n, b.hidden, exactFrom: exactFrom)
                Kernels.matmul(pool, up, b.xb, tokens: n, b.hidden2, exactFrom: exactFrom)
                Kernels.swiglu(b.hidden, b.hidden2, count: n * gate.rows)
                Kernels.matmul(pool, down, b.hidden, tokens: n, b.partial, exactFrom: exactFrom)
            case .experts(let moe, let experts):
                MixtureOfExperts.forward(pool, moe, experts: experts, x: b.xb, tokens: n, width: d, out: b.partial,
                                         scratch: b.moe!, exact: exactFrom < n)
            }
            allReduce(w, buffers: buffers, columns: columns, tokens: n, state: s)
        }
    }

    /// x += Σ workers' partial outputs: each worker adds up its own columns, between two barriers.
    @inline(__always)
    private func allReduce(_ w: Int, buffers: Buffers, columns: Range<Int>, tokens n: Int, state s: RunState) {
        barrier.wait()
        let d = base.config.width
        for t in 0..<n {
            let x = s.x + t * d + columns.lowerBound
            for worker in buffers.workers {
                Kernels.add(x, worker.partial + t * d + columns.lowerBound, count: columns.count)
            }
        }
        barrier.wait()
    }
}
