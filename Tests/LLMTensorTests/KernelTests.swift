import CKernels
import LLMTensor
import Testing

/// SIMD kernels against the scalar references, over awkward sizes.
@Suite("Quantized kernels", .serialized)
struct KernelTests {
    static let pool = WorkerPool(threads: 2)

    /// Deterministic pseudo-random floats.
    static func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    static let quantized: [TensorType] = [.q8_0, .q4_0, .q4_1, .q5_0]
    static let floats: [TensorType] = [.f32, .f16, .bf16]

    static func check(_ type: TensorType, rows: Int, cols: Int, tokens: Int, isa: InstructionSet?, exact: Bool = false) {
        InstructionSet.force(isa)
        defer { InstructionSet.force(nil) }
        let weights = QuantReference.quantize(type, values(rows * cols, seed: UInt64(rows * 31 + cols)))
        let x = values(tokens * cols, seed: UInt64(tokens + 7), scale: 2)
        var y = [Float](repeating: .nan, count: rows * tokens)
        weights.withUnsafeBytes { w in
            let m = WeightMatrix(type: type, rows: rows, cols: cols, data: w.baseAddress!)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Kernels.matmul(pool, m, xp.baseAddress!, tokens: tokens, yp.baseAddress!, exact: exact)
                }
            }
            for t in 0..<tokens {
                for r in 0..<rows {
                    let row = UnsafeRawBufferPointer(rebasing: w[(r * m.rowBytes)..<((r + 1) * m.rowBytes)])
                    let ref = QuantReference.dot(type, row, Array(x[(t * cols)..<((t + 1) * cols)]))
                    let got = Double(y[t * rows + r])
                    var tol = 1e-4 * Double(cols).squareRoot() * 4 + 1e-5 * abs(ref)
                    let int8Panel = ck_has_q8a_panel(Int32(type.rawValue)) != 0 && isa == nil && tokens >= 4
                    if type.isQuantized && !exact && (tokens <= Kernels.int8MaxTokens || int8Panel) {
                        // 8-bit activations: each element is off by at most half its block's step.
                        let w = QuantReference.dequantize(type, row, count: cols)
                        for b in 0..<cols / 32 {
                            let xb = x[(t * cols + b * 32)..<(t * cols + b * 32 + 32)]
                            let half = Double(xb.map { abs($0) }.max()!) / 127 / 2
                            tol += half * w[(b * 32)..<(b * 32 + 32)].reduce(0.0) { $0 + Double(abs($1)) } * 1.01
                        }
                    }
                    #expect(abs(got - ref) <= tol, "\(type) rows \(rows) cols \(cols) tokens \(tokens) isa \(String(describing: isa)): [\(t),\(r)] \(got) vs \(ref)")
                    if abs(got - ref) > tol { return }
                }
            }
        }
    }

    @Test("quantized matmul equals the reference", arguments: quantized, [32, 64, 96, 576, 1056])
    func quantizedMatmul(type: TensorType, cols: Int) {
        for rows in [1, 3, 31, 33] {
            for tokens in [1, 2, 3, 4, 5, 9, 17] {
                for exact in [false, true] {
                    Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: nil, exact: exact)
                    Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: .scalar, exact: exact)
                }
            }
        }
    }

    /// Batches at or above the GEMM threshold: six-row groups with a remainder (5, 70 rows), token
    /// strips of 16 with a remainder (33), for both batch GEMMs and both instruction sets.
    @Test("batch GEMMs (panel and OpenBLAS) equal the reference at awkward shapes, SIMD and scalar",
          arguments: quantized + floats, Kernels.BatchGemm.allCases)
    func batchGemm(type: TensorType, gemm: Kernels.BatchGemm) {
        let before = Kernels.batchGemm
        Kernels.batchGemm = gemm
        defer { Kernels.batchGemm = before }
        for rows in [5, 6, 70] {
            for tokens in [8, 16, 33, 64] {
                for cols in [32, 576] {
                    Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: nil, exact: true)
                    Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: .scalar, exact: true)
                }
            }
        }
    }

    @Test("SwiGLU (SIMD exp) equals g * sigmoid(g) * up at awkward lengths and extreme inputs")
    func swiglu() {
        for n in [1, 7, 8, 9, 1536, 1543] {
            var gate = Self.values(n, seed: UInt64(n), scale: 12)
            if n > 8 { gate[0] = -95; gate[1] = 95; gate[2] = 0; gate[3] = -30 }
            let up = Self.values(n, seed: UInt64(n + 1), scale: 2)
            for isa in [nil, InstructionSet.scalar] {
                InstructionSet.force(isa)
                defer { InstructionSet.force(nil) }
                var out = gate
                out.withUnsafeMutableBufferPointer { o in up.withUnsafeBufferPointer { ck_swiglu(o.baseAddress!, $0.baseAddress!, Int64(n)) } }
                for i in 0..<n {
                    let g = Double(gate[i]), ref = g / (1 + Foundation.exp(-g)) * Double(up[i])
                    #expect(abs(Double(out[i]) - ref) <= 2e-6 * abs(ref) + 1e-30, "n \(n) isa \(String(describing: isa)) [\(i)] g \(g): \(out[i]) vs \(ref)")
                }
            }
        }
    }

    @Test("float matmul equals the reference at awkward lengths", arguments: floats, [1, 31, 32, 33, 1023])
    func floatMatmul(type: TensorType, cols: Int) {
        for rows in [1, 7, 33] {
            for tokens in [1, 4, 6] {
                Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: nil)
                Self.check(type, rows: rows, cols: cols, tokens: tokens, isa: .scalar)
            }
        }
    }

    @Test("8-bit activation dot products: SIMD equals the scalar reference", arguments: quantized, [32, 64, 576, 1056])
    func int8Dot(type: TensorType, cols: Int) {
        for seed in 0..<4 {
            let w = QuantReference.quantize(type, Self.values(cols, seed: UInt64(seed * 5 + cols)))
            let x = Self.values(cols, seed: UInt64(seed + 11), scale: 3)
            var xq = [ck_block_q8a](repeating: ck_block_q8a(), count: cols / 32)
            ck_quantize_q8a(x, &xq, Int64(cols))
            let (simd, scalar) = w.withUnsafeBytes { wp in
                (ck_dot_q8a(Int32(type.rawValue), wp.baseAddress!, xq, Int64(cols)),
                 ck_dot_q8a_scalar(Int32(type.rawValue), wp.baseAddress!, xq, Int64(cols)))
            }
            #expect(abs(simd - scalar) <= 1e-4 * max(1, abs(scalar)), "\(type) cols \(cols): \(simd) vs \(scalar)")
        }
    }

    /// Decode batches of 4+ tokens over Q4_0/Q4_1 (the integer panel GEMM): four-row groups with a
    /// remainder (5, 70 rows), eight-token strips with a remainder (4, 17, 33), against the scalar
    /// 8-bit reference dot product of each row and token.
    @Test("integer panel GEMM equals the scalar 8-bit reference at awkward shapes",
          .enabled(if: InstructionSet.detected == .avx2, "the integer panel needs AVX2"), arguments: [TensorType.q4_0, .q4_1])
    func int8PanelGemm(type: TensorType) {
        #expect(ck_has_q8a_panel(Int32(type.rawValue)) != 0)
        for rows in [5, 8, 70] {
            for tokens in [4, 17, 33, 64] {
                for cols in [32, 576] {
                    let w = QuantReference.quantize(type, Self.values(rows * cols, seed: UInt64(rows + cols)))
                    let x = Self.values(tokens * cols, seed: UInt64(tokens), scale: 3)
                    var y = [Float](repeating: .nan, count: rows * tokens)
                    w.withUnsafeBytes { wp in
                        let matrix = WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { Kernels.matmul(Self.pool, matrix, xp.baseAddress!, tokens: tokens, $0.baseAddress!) }
                        }
                        var xq = [ck_block_q8a](repeating: ck_block_q8a(), count: cols / 32)
                        for t in 0..<tokens {
                            Array(x[(t * cols)..<((t + 1) * cols)]).withUnsafeBufferPointer { ck_quantize_q8a($0.baseAddress!, &xq, Int64(cols)) }
                            for r in 0..<rows {
                                let ref = ck_dot_q8a_scalar(Int32(type.rawValue), wp.baseAddress! + r * matrix.rowBytes, xq, Int64(cols))
                                let got = y[t * rows + r]
                                #expect(abs(got - ref) <= 1e-5 * max(1, abs(ref)) * Float(cols / 32),
                                        "\(type) rows \(rows) tokens \(tokens) cols \(cols): [\(t),\(r)] \(got) vs \(ref)")
                                if abs(got - ref) > 1e-5 * max(1, abs(ref)) * Float(cols / 32) { return }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("8-bit activation quantization: SIMD gives the scalar loop's bytes and floats (ties, zero blocks)")
    func quantizeActivations() {
        for n in [32, 64, 576, 1536] {
            var x = Self.values(n, seed: UInt64(n), scale: 5)
            // A block of zeros, and a block whose values land exactly halfway between two steps.
            for j in 0..<32 { x[j] = 0 }
            if n >= 64 { for j in 32..<64 { x[j] = Float(j - 48) + 0.5; x[63] = 127 } }
            var simd = [ck_block_q8a](repeating: ck_block_q8a(), count: n / 32)
            var scalar = simd
            ck_quantize_q8a(x, &simd, Int64(n))
            InstructionSet.force(.scalar)
            ck_quantize_q8a(x, &scalar, Int64(n))
            InstructionSet.force(nil)
            for b in 0..<n / 32 {
                let same = simd[b].d == scalar[b].d && simd[b].s == scalar[b].s &&
                    withUnsafeBytes(of: simd[b].qs) { a in withUnsafeBytes(of: scalar[b].qs) { a.elementsEqual($0) } }
                #expect(same, "n \(n) block \(b)")
            }
        }
    }

    @Test("dequantize equals the reference", arguments: TensorType.allCases)
    func dequantize(type: TensorType) {
        let sizes = type.isQuantized ? [1, 2, 32].map { $0 * type.blockSize } : [1, 31, 33, 1023]
        for n in sizes {
            let bytes = QuantReference.quantize(type, Self.values(n, seed: UInt64(n)))
            let ref = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: n) }
            var out = [Float](repeating: .nan, count: n)
            bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { Kernels.dequantize(type, b.baseAddress!, $0.baseAddress!, count: n) } }
            #expect(out == ref, "\(type) n=\(n)")
        }
    }

    @Test("quantization error is within each format's step")
    func quantizationError() {
        let x = Self.values(1024, seed: 99)
        for (type, bound) in [(TensorType.q8_0, Float(1.0 / 127)), (.q4_0, 1.0 / 7), (.q4_1, 2.0 / 15), (.f16, 1e-3), (.bf16, 1e-2)] {
            let back = QuantReference.quantize(type, x).withUnsafeBytes { QuantReference.dequantize(type, $0, count: x.count) }
            let err = zip(x, back).map { abs($0 - $1) }.max()!
            #expect(err <= bound, "\(type) max error \(err)")
        }
    }

    @Test("half-precision conversion matches Float16")
    func halfConversion() {
        for bits in stride(from: 0, through: 0xFFFF, by: 7) {
            let h = UInt16(bits)
            let a = ck_fp16_to_fp32(h), b = Float(Float16(bitPattern: h))
            #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "bits \(bits)")
        }
        for f: Float in [0, 1, -2.5, 65504, 1e-7, 3.14159, -0.000061] {
            #expect(ck_fp32_to_fp16(f) == Float16(f).bitPattern, "\(f)")
        }
    }

    @Test("the CPU's best instruction set is used by default")
    func isa() {
        #expect(InstructionSet.active == InstructionSet.detected)
    }
}

@Suite("Layer kernels")
struct LayerKernelTests {
    @Test("attention over one position returns its value vector")
    func attentionSinglePosition() {
        let pool = WorkerPool(threads: 2)
        let heads = 4, kv = 2, hd = 8
        let q = KernelTests.values(heads * hd, seed: 1)
        let k = KernelTests.values(kv * hd, seed: 2)
        let v = KernelTests.values(kv * hd, seed: 3)
        var out = [Float](repeating: 0, count: heads * hd)
        Kernels.attention(pool, q: q, tokens: 1, heads: heads, kvHeads: kv, headDim: hd, keys: k, values: v,
                          kvStride: kv * hd, position: 0, out: &out)
        for h in 0..<heads {
            let g = h / (heads / kv)
            for i in 0..<hd { #expect(abs(out[h * hd + i] - v[g * hd + i]) < 1e-6) }
        }
    }

    @Test("attention matches a plain reference over many positions and head groupings, SIMD and scalar",
          arguments: [(9, 3, 64), (8, 2, 32), (4, 4, 64), (6, 1, 32), (4, 2, 8)])
    func attentionMatchesReference(shape: (Int, Int, Int)) {
        let (heads, kv, hd) = shape
        let pool = WorkerPool(threads: 2)
        let tokens = 7, position = 5, positions = position + tokens
        let q = KernelTests.values(tokens * heads * hd, seed: 11)
        let k = KernelTests.values(positions * kv * hd, seed: 12)
        let v = KernelTests.values(positions * kv * hd, seed: 13)
        var expected = [Float](repeating: 0, count: tokens * heads * hd)
        for t in 0..<tokens {
            for h in 0..<heads {
                let g = h / (heads / kv)
                let pos = position + t
                var scores = (0...pos).map { p -> Double in
                    var s = 0.0
                    for i in 0..<hd { s += Double(q[(t * heads + h) * hd + i]) * Double(k[(p * kv + g) * hd + i]) }
                    return s / Double(hd).squareRoot()
                }
                let m = scores.max()!
                scores = scores.map { exp($0 - m) }
                let sum = scores.reduce(0, +)
                for i in 0..<hd {
                    var o = 0.0
                    for p in 0...pos { o += scores[p] / sum * Double(v[(p * kv + g) * hd + i]) }
                    expected[(t * heads + h) * hd + i] = Float(o)
                }
            }
        }
        for isa in [nil, InstructionSet.scalar] {
            InstructionSet.force(isa)
            defer { InstructionSet.force(nil) }
            var out = [Float](repeating: .nan, count: tokens * heads * hd)
            Kernels.attention(pool, q: q, tokens: tokens, heads: heads, kvHeads: kv, headDim: hd, keys: k, values: v,
                              kvStride: kv * hd, position: position, out: &out)
            let worst = zip(out, expected).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "isa \(String(describing: isa)) shape \(shape): max |diff| \(worst)")
        }
    }

    /// Plain causal attention of one query row against positions first...pos of contiguous K/V rows.
    static func referenceAttention(q: ArraySlice<Float>, keys: [Float], values: [Float], kvHead: Int, kvStride: Int,
                                   headDim hd: Int, first: Int, pos: Int) -> [Float] {
        let q = Array(q)
        var scores = (first...pos).map { p -> Double in
            var s = 0.0
            for i in 0..<hd { s += Double(q[i]) * Double(keys[p * kvStride + kvHead * hd + i]) }
            return s / Double(hd).squareRoot()
        }
        let m = scores.max()!
        scores = scores.map { exp($0 - m) }
        let sum = scores.reduce(0, +)
        return (0..<hd).map { i in
            var o = 0.0
            for (j, p) in (first...pos).enumerated() { o += scores[j] / sum * Double(values[p * kvStride + kvHead * hd + i]) }
            return Float(o)
        }
    }

    @Test("paged attention over scattered blocks matches the reference: several sequences, block edges, windows, one sequence alone",
          arguments: [(9, 3, 64), (8, 2, 32), (8, 1, 32)])
    func pagedAttentionMatchesReference(shape: (Int, Int, Int)) {
        let (heads, kv, hd) = shape
        let pool = WorkerPool(threads: 2)
        let blockSize = 4, stride = kv * hd
        // (first position, query tokens, window): a decode step, a prompt crossing three block edges,
        // a windowed pair.
        let shapes = [(10, 1, 0), (0, 9, 0), (13, 2, 5)]
        let blocksPer = shapes.map { ($0.0 + $0.1 + blockSize - 1) / blockSize }
        let totalBlocks = blocksPer.reduce(0, +)
        // Scatter every sequence's blocks over one storage, in a shuffled order.
        var order = Array(0..<totalBlocks)
        var rng = SystemRandomNumberGenerator()
        order.shuffle(using: &rng)
        var tables: [[Int32]] = []
        var next = 0
        for n in blocksPer { tables.append(order[next..<next + n].map(Int32.init)); next += n }
        let seqKeys = shapes.indices.map { KernelTests.values(blocksPer[$0] * blockSize * stride, seed: UInt64(20 + $0)) }
        let seqValues = shapes.indices.map { KernelTests.values(blocksPer[$0] * blockSize * stride, seed: UInt64(30 + $0)) }
        var kStore = [Float](repeating: .nan, count: totalBlocks * blockSize * stride)
        var vStore = kStore
        for s in shapes.indices {
            for p in 0..<blocksPer[s] * blockSize {
                let row = Int(tables[s][p / blockSize]) * blockSize + p % blockSize
                for i in 0..<stride {
                    kStore[row * stride + i] = seqKeys[s][p * stride + i]
                    vStore[row * stride + i] = seqValues[s][p * stride + i]
                }
            }
        }
        let tokens = shapes.map(\.1).reduce(0, +)
        let q = KernelTests.values(tokens * heads * hd, seed: 41)
        var expected = [Float](repeating: 0, count: tokens * heads * hd)
        var offsets: [Int] = []
        var row = 0
        for (s, (pos0, n, window)) in shapes.enumerated() {
            offsets.append(row)
            for t in 0..<n {
                let pos = pos0 + t
                let first = window > 0 ? max(0, pos - window + 1) : 0
                for h in 0..<heads {
                    let base = ((row + t) * heads + h) * hd
                    let o = LayerKernelTests.referenceAttention(q: q[base..<base + hd], keys: seqKeys[s], values: seqValues[s],
                                                           kvHead: h / (heads / kv), kvStride: stride, headDim: hd,
                                                           first: first, pos: pos)
                    for i in 0..<hd { expected[base + i] = o[i] }
                }
            }
            row += n
        }
        for isa in [nil, InstructionSet.scalar] {
            InstructionSet.force(isa)
            defer { InstructionSet.force(nil) }
            kStore.withUnsafeBufferPointer { k in
                vStore.withUnsafeBufferPointer { v in
                    let tablePointers = tables.map { t -> UnsafeMutablePointer<Int32> in
                        let p = UnsafeMutablePointer<Int32>.allocate(capacity: t.count)
                        p.initialize(from: t, count: t.count)
                        return p
                    }
                    defer { tablePointers.forEach { $0.deallocate() } }
                    let segments = shapes.indices.map { s in
                        ck_attn_segment(k: k.baseAddress, v: v.baseAddress, pos0: Int32(shapes[s].0), ntok: Int32(shapes[s].1),
                                        tok_offset: Int32(offsets[s]), blocks: UnsafePointer(tablePointers[s]),
                                        block_size: Int32(blockSize), window: Int32(shapes[s].2))
                    }
                    // All sequences in one call (grouped tasks where there are enough), then each alone.
                    var out = [Float](repeating: .nan, count: tokens * heads * hd)
                    Kernels.attention(pool, q: q, segments: segments, count: segments.count, heads: heads, kvHeads: kv,
                                      headDim: hd, kvStride: stride, out: &out)
                    let worst = zip(out, expected).map { abs($0 - $1) }.max()!
                    #expect(worst < 1e-5, "batch, isa \(String(describing: isa)) shape \(shape): max |diff| \(worst)")
                    for s in shapes.indices {
                        var alone = segments[s]
                        alone.tok_offset = 0
                        let base = offsets[s] * heads * hd, count = shapes[s].1 * heads * hd
                        var one = [Float](repeating: .nan, count: count)
                        Array(q[base..<base + count]).withUnsafeBufferPointer { qs in
                            Kernels.attention(pool, q: qs.baseAddress!, segments: &alone, count: 1, heads: heads, kvHeads: kv,
                                              headDim: hd, kvStride: stride, out: &one)
                        }
                        let worstAlone = zip(one, expected[base..<base + count]).map { abs($0 - $1) }.max()!
                        #expect(worstAlone < 1e-5, "sequence \(s) alone, isa \(String(describing: isa)): max |diff| \(worstAlone)")
                    }
                }
            }
        }
    }

    @Test("rope rotates adjacent pairs by position times frequency")
    func rope() {
        var table = [Float](repeating: 0, count: 8)
        Kernels.ropeTable(&table, tokens: 1, headDim: 8, position: 3, base: 10000)
        var x: [Float] = [1, 0, 1, 0, 1, 0, 1, 0]
        Kernels.rope(&x, tokens: 1, heads: 1, headDim: 8, table: table, stride: 8)
        for i in 0..<4 {
            let angle = 3.0 * pow(10000.0, -2.0 * Double(i) / 8)
            #expect(abs(Double(x[2 * i]) - cos(angle)) < 1e-6)
            #expect(abs(Double(x[2 * i + 1]) - sin(angle)) < 1e-6)
        }
    }
}

import Foundation
