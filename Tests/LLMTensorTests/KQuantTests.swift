import CKernels
import LLMTensor
import Testing

/// Q5_0, Q4_K and Q6_K: C kernels against the Swift reference, SIMD against scalar, matmul against
/// a dequantized float matmul. (Q5_0's 8-bit activation kernel is also in KernelTests.)
@Suite("Q5_0 / Q4_K / Q6_K kernels", .serialized)
struct KQuantTests {
    static let pool = WorkerPool(threads: 2)
    static let types: [TensorType] = [.q5_0, .q4_K, .q6_K]

    /// Deterministic random bytes for `blocks` blocks of `type`, with the fp16 scale fields replaced
    /// by small finite values (random scale bytes could be Inf/NaN) and every other byte random.
    static func randomBlocks(_ type: TensorType, _ blocks: Int, seed: UInt64) -> [UInt8] {
        var s = (seed &+ 1) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        var bytes = (0..<blocks * type.bytesPerBlock).map { _ in UInt8(truncatingIfNeeded: next() >> 24) }
        func setHalf(_ offset: Int, _ v: Float) {
            let bits = Float16(v).bitPattern
            bytes[offset] = UInt8(bits & 0xFF)
            bytes[offset + 1] = UInt8(bits >> 8)
        }
        func unit() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
        for b in 0..<blocks {
            let base = b * type.bytesPerBlock
            switch type {
            case .q5_0: setHalf(base, unit() * 0.05)
            case .q4_K: setHalf(base, unit() * 0.01); setHalf(base + 2, abs(unit()) * 0.01)
            case .q6_K: setHalf(base + 208, unit() * 0.002)
            default: break
            }
        }
        return bytes
    }

    static func cDequantize(_ type: TensorType, _ bytes: [UInt8], count: Int, isa: InstructionSet?) -> [Float] {
        InstructionSet.force(isa)
        defer { InstructionSet.force(nil) }
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBufferPointer { ck_dequantize_row(Int32(type.rawValue), b.baseAddress!, $0.baseAddress!, Int64(count)) }
        }
        return out
    }

    static func cDot(_ type: TensorType, _ bytes: [UInt8], _ x: [Float], isa: InstructionSet?) -> Float {
        InstructionSet.force(isa)
        defer { InstructionSet.force(nil) }
        return bytes.withUnsafeBytes { ck_dot(Int32(type.rawValue), $0.baseAddress!, x, Int64(x.count)) }
    }

    @Test("type ids, block sizes and names follow ggml")
    func metadata() {
        for (type, id, block, bytes, name) in [(TensorType.q5_0, 6, 32, 22, "Q5_0"), (.q4_K, 12, 256, 144, "Q4_K"), (.q6_K, 14, 256, 210, "Q6_K")] {
            #expect(type.rawValue == UInt32(id))
            #expect(type.blockSize == block && type.bytesPerBlock == bytes)
            #expect(type.description == name && TensorType.ggmlName(of: UInt32(id)) == name)
            #expect(ck_row_bytes(Int32(id), Int64(4 * block)) == 4 * bytes)
            #expect(type.byteCount(elements: block + 32) == nil || block == 32)
        }
        #expect(TensorType(rawValue: 13) == nil && TensorType.ggmlName(of: 13) == "Q5_K")
    }

    @Test("C scalar dequantization equals the Swift reference bit for bit", arguments: types)
    func scalarDequantize(type: TensorType) {
        for seed in 0..<8 {
            for blocks in [1, 5] {
                let bytes = Self.randomBlocks(type, blocks, seed: UInt64(seed * 10 + blocks))
                let n = blocks * type.blockSize
                let c = Self.cDequantize(type, bytes, count: n, isa: .scalar)
                let ref = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: n) }
                let bad = (0..<n).filter { c[$0].bitPattern != ref[$0].bitPattern }
                #expect(bad.isEmpty, "\(type) seed \(seed): \(bad.count) mismatches, first at \(bad.first ?? -1)")
            }
        }
    }

    /// Values from gguf-py 0.19.0 (`gguf.quants.dequantize`) for fixed blocks: byte i is
    /// (37 i + 11 + 7 id) & 0xFF, with d = 0x2E66 (Q5_0, Q4_K), dmin = 0x2A66 (Q4_K), d = 0x1E66 (Q6_K).
    static let golden: [(TensorType, Int, [(Int, UInt32)], Double)] = [
        (.q5_0, 2, [(0, 0x3E99_9000), (1, 0x3F4C_C000), (15, 0x3FB3_2800), (16, 0x3DCC_C000), (17, 0xBFA6_5C00),
                    (31, 0x3E99_9000), (32, 0x3DCC_C000), (33, 0xBF7F_F000), (63, 0xBF7F_F000)], 259.2366943359375),
        (.q4_K, 1, [(0, 0x4298_4348), (1, 0x41A0_5C60), (15, 0x424A_8CF0), (16, 0x4298_4348), (17, 0x41A0_5C60),
                    (31, 0x424A_8CF0), (32, 0x41AE_5B80), (33, 0x41E7_F180), (63, 0x4026_5C00), (64, 0x42B5_4178),
                    (100, 0x4233_8E60), (127, 0x4218_5CE0), (128, 0x42AD_A858), (129, 0x41AF_8EA0), (200, 0x3F4C_C000),
                    (255, 0xC033_2800)], 555251.607421875),
        (.q6_K, 1, [(0, 0xBF57_F280), (1, 0x3F0F_F700), (15, 0xC0D7_F280), (16, 0xBFC4_C080), (17, 0x3F83_2B00),
                    (31, 0xC144_C080), (32, 0x41AC_8204), (33, 0xC1B2_74D8), (63, 0xC09F_F600), (64, 0xC017_29C0),
                    (100, 0x3F2F_F500), (127, 0xC019_9000), (128, 0xBFCB_F340), (129, 0x3F87_F780), (200, 0xC085_5E10),
                    (255, 0xC12F_F500)], -5117.700256347656),
    ]

    @Test("dequantization matches values computed by gguf-py")
    func ggufPyGolden() {
        for (type, blocks, values, weightedSum) in Self.golden {
            let id = Int(type.rawValue)
            var bytes = (0..<blocks * type.bytesPerBlock).map { UInt8(truncatingIfNeeded: $0 * 37 + 11 + id * 7) }
            for b in 0..<blocks {
                let base = b * type.bytesPerBlock
                let fields: [(Int, UInt16)] = type == .q6_K ? [(208, 0x1E66)] : type == .q4_K ? [(0, 0x2E66), (2, 0x2A66)] : [(0, 0x2E66)]
                for (offset, bits) in fields {
                    bytes[base + offset] = UInt8(bits & 0xFF)
                    bytes[base + offset + 1] = UInt8(bits >> 8)
                }
            }
            let n = blocks * type.blockSize
            for isa in [InstructionSet.scalar, nil] {
                let got = Self.cDequantize(type, bytes, count: n, isa: isa)
                for (i, bits) in values { #expect(got[i].bitPattern == bits, "\(type) isa \(String(describing: isa)) [\(i)] \(got[i])") }
                let sum = got.enumerated().reduce(0.0) { $0 + Double($1.element) * Double($1.offset + 1) }
                #expect(abs(sum - weightedSum) <= 1e-9 * abs(weightedSum), "\(type): \(sum) vs \(weightedSum)")
            }
            let ref = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: n) }
            for (i, bits) in values { #expect(ref[i].bitPattern == bits, "\(type) Swift reference [\(i)]") }
        }
    }

    @Test("SIMD dequantization and dot products equal the scalar kernels", arguments: types)
    func simdMatchesScalar(type: TensorType) {
        for seed in 0..<6 {
            for blocks in [1, 3, 16] {
                let bytes = Self.randomBlocks(type, blocks, seed: UInt64(100 + seed * 10 + blocks))
                let n = blocks * type.blockSize
                // The SIMD dequantization does the scalar code's roundings (d * scale, then * q), so
                // it is exact, not just close.
                let scalar = Self.cDequantize(type, bytes, count: n, isa: .scalar)
                let simd = Self.cDequantize(type, bytes, count: n, isa: nil)
                #expect(scalar.map(\.bitPattern) == simd.map(\.bitPattern), "\(type) seed \(seed) blocks \(blocks)")

                let x = KernelTests.values(n, seed: UInt64(seed + 3), scale: 2)
                let ds = Self.cDot(type, bytes, x, isa: .scalar), dv = Self.cDot(type, bytes, x, isa: nil)
                let magnitude = zip(scalar, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                let exact = zip(scalar, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(Double(dv) - Double(ds)) <= 1e-6 * magnitude + 1e-7, "\(type) n \(n): simd \(dv) scalar \(ds)")
                #expect(abs(Double(ds) - exact) <= 1e-6 * magnitude + 1e-7, "\(type) n \(n): scalar \(ds) exact \(exact)")
            }
        }
    }

    /// 1 and 3 tokens: the per-token loop of the row kernels; 5: the four-token loop plus one;
    /// 20 (at or above the gemm threshold of 8): dequantize + sgemm.
    @Test("matmul equals a dequantized float matmul (row kernels and sgemm path, SIMD and scalar)",
          arguments: types, [1, 3, 5, 20])
    func matmul(type: TensorType, tokens: Int) {
        let rows = 64
        for cols in type == .q5_0 ? [96, 512] : [256, 512] {
            let bytes = Self.randomBlocks(type, rows * cols / type.blockSize, seed: UInt64(cols + tokens))
            let x = KernelTests.values(tokens * cols, seed: UInt64(tokens * 7 + cols), scale: 2)
            let w = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: rows * cols) }
            for isa in [nil, InstructionSet.scalar] {
                for exact in [false, true] {
                    InstructionSet.force(isa)
                    defer { InstructionSet.force(nil) }
                    var y = [Float](repeating: .nan, count: rows * tokens)
                    bytes.withUnsafeBytes { wp in
                        let m = WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { yp in
                                Kernels.matmul(Self.pool, m, xp.baseAddress!, tokens: tokens, yp.baseAddress!, exact: exact)
                            }
                        }
                    }
                    var worst = 0.0
                    for t in 0..<tokens {
                        for r in 0..<rows {
                            var ref = 0.0, magnitude = 0.0
                            for c in 0..<cols {
                                let p = Double(w[r * cols + c]) * Double(x[t * cols + c])
                                ref += p
                                magnitude += abs(p)
                            }
                            // 1e-4 relative to the result, or to the typical size of a result when it
                            // cancels to near zero.
                            let scale = max(abs(ref), magnitude / Double(cols).squareRoot())
                            worst = max(worst, abs(Double(y[t * rows + r]) - ref) / scale)
                        }
                    }
                    // Q5_0 has an 8-bit activation kernel: within the token limit, non-exact calls
                    // round activations to 8 bits (KernelTests bounds that error element by element).
                    let int8 = type == .q5_0 && !exact && tokens <= Kernels.int8MaxTokens
                    let bound = int8 ? 3e-2 : 1e-4
                    #expect(worst <= bound, "\(type) cols \(cols) tokens \(tokens) isa \(String(describing: isa)) exact \(exact): worst relative error \(worst)")
                }
            }
        }
    }

    @Test("8-bit activation entry points fall back to float math", arguments: [TensorType.q4_K, .q6_K])
    func int8Fallback(type: TensorType) {
        #expect(ck_has_q8a_kernel(Int32(type.rawValue)) == 0)
        let cols = 512
        let bytes = Self.randomBlocks(type, cols / type.blockSize, seed: 77)
        let x = KernelTests.values(cols, seed: 78, scale: 3)
        var xq = [ck_block_q8a](repeating: ck_block_q8a(), count: cols / 32)
        ck_quantize_q8a(x, &xq, Int64(cols))
        let w = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: cols) }
        var ref = 0.0, magnitude = 0.0
        for j in 0..<cols {
            let xb = xq[j / 32]
            let xv = withUnsafeBytes(of: xb.qs) { Int8(bitPattern: $0[j % 32]) }
            let p = Double(w[j]) * Double(xb.d * Float(xv))
            ref += p
            magnitude += abs(p)
        }
        let (simd, scalar) = bytes.withUnsafeBytes { wp in
            (ck_dot_q8a(Int32(type.rawValue), wp.baseAddress!, xq, Int64(cols)),
             ck_dot_q8a_scalar(Int32(type.rawValue), wp.baseAddress!, xq, Int64(cols)))
        }
        #expect(simd.isFinite && simd == scalar, "\(type): \(simd) vs \(scalar)")
        #expect(abs(Double(scalar) - ref) <= 1e-6 * magnitude, "\(type): \(scalar) vs \(ref)")

        // A decode-sized matmul within the 8-bit token limit takes the float path: the same bits as
        // an `exact` call.
        let rows = 16
        let wm = Self.randomBlocks(type, rows * cols / type.blockSize, seed: 79)
        var a = [Float](repeating: .nan, count: rows), b = a
        wm.withUnsafeBytes { wp in
            let m = WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
            x.withUnsafeBufferPointer { xp in
                Kernels.matmul(Self.pool, m, xp.baseAddress!, tokens: 1, &a, exact: false)
                Kernels.matmul(Self.pool, m, xp.baseAddress!, tokens: 1, &b, exact: true)
            }
        }
        #expect(Kernels.int8MaxTokens >= 1)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern) && a.allSatisfy(\.isFinite), "\(type)")
    }

    @Test("reference quantizers round-trip within each format's step")
    func quantizationError() {
        let x = KernelTests.values(4096, seed: 1234)
        for (type, bound) in [(TensorType.q5_0, Float(1.0 / 15)), (.q4_K, 0.1), (.q6_K, 0.035)] {
            let bytes = QuantReference.quantize(type, x)
            #expect(bytes.count == type.byteCount(elements: x.count))
            let back = bytes.withUnsafeBytes { QuantReference.dequantize(type, $0, count: x.count) }
            let err = zip(x, back).map { abs($0 - $1) }.max()!
            #expect(err <= bound, "\(type) max error \(err)")
            let c = Self.cDequantize(type, bytes, count: x.count, isa: nil)
            #expect(c == back, "\(type): C and Swift dequantization of quantized weights differ")
        }
    }
}
