/// Plain scalar reference implementations of every tensor type's block layout. They are the
/// specification the SIMD kernels in CKernels are tested against, written for clarity, not speed.
public enum QuantReference {
    /// IEEE half (binary16) to Float.
    public static func half(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// bfloat16 (upper 16 bits of a Float) to Float.
    public static func bfloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Dequantizes `count` elements of `type` stored at `bytes`.
    public static func dequantize(_ type: TensorType, _ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        func u16(_ offset: Int) -> UInt16 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
        switch type {
        case .f32:
            for i in 0..<count { out[i] = bytes.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<count { out[i] = half(u16(2 * i)) }
        case .bf16:
            for i in 0..<count { out[i] = bfloat(u16(2 * i)) }
        case .q8_0:
            // Block: fp16 scale d, then 32 signed bytes. x = d * q
            for b in 0..<count / 32 {
                let base = b * 34
                let d = half(u16(base))
                for j in 0..<32 { out[b * 32 + j] = d * Float(Int8(bitPattern: bytes[base + 2 + j])) }
            }
        case .q4_0:
            // Block: fp16 scale d, then 16 bytes; byte j holds element j (low nibble) and j+16
            // (high nibble). x = d * (q - 8)
            for b in 0..<count / 32 {
                let base = b * 18
                let d = half(u16(base))
                for j in 0..<16 {
                    let byte = bytes[base + 2 + j]
                    out[b * 32 + j] = d * Float(Int(byte & 0x0F) - 8)
                    out[b * 32 + j + 16] = d * Float(Int(byte >> 4) - 8)
                }
            }
        case .q4_1:
            // Block: fp16 scale d, fp16 minimum m, then 16 nibble bytes as in Q4_0. x = d * q + m
            for b in 0..<count / 32 {
                let base = b * 20
                let d = half(u16(base))
                let m = half(u16(base + 2))
                for j in 0..<16 {
                    let byte = bytes[base + 4 + j]
                    out[b * 32 + j] = d * Float(byte & 0x0F) + m
                    out[b * 32 + j + 16] = d * Float(byte >> 4) + m
                }
            }
        case .q5_0:
            // Block (22 bytes): fp16 scale d; 4 bytes qh = a little-endian 32-bit word whose bit j is
            // bit 4 of element j; 16 bytes of low nibbles laid out as in Q4_0. x = d * (q - 16)
            for b in 0..<count / 32 {
                let base = b * 22
                let d = half(u16(base))
                var qh: UInt32 = 0
                for k in 0..<4 { qh |= UInt32(bytes[base + 2 + k]) << (8 * k) }
                for e in 0..<32 {
                    let byte = bytes[base + 6 + e % 16]
                    let low = e < 16 ? Int(byte & 0x0F) : Int(byte >> 4)
                    let high = Int((qh >> UInt32(e)) & 1)
                    out[b * 32 + e] = d * Float(low + 16 * high - 16)
                }
            }
        case .q4_K:
            // Super-block (144 bytes) of 256 = 8 sub-blocks of 32: fp16 d, fp16 dmin, 12 bytes of
            // 6-bit scales sc[j] and minimums m[j], then 128 bytes of nibbles. Sub-block j uses the
            // 32 bytes at 32 * (j / 2), low nibbles for even j, high for odd j.
            // Scale/min packing: for j < 4, sc = s[j] & 63 and m = s[j + 4] & 63; for j >= 4 the low
            // four bits are the nibbles of s[j + 4] (sc low, m high) and the top two bits are the
            // top two bits of s[j - 4] (sc) and s[j] (m). x = (d * sc) * q - dmin * m
            for b in 0..<count / 256 {
                let base = b * 144
                let d = half(u16(base)), dmin = half(u16(base + 2))
                func s(_ i: Int) -> Int { Int(bytes[base + 4 + i]) }
                for j in 0..<8 {
                    let sc = j < 4 ? s(j) & 63 : (s(j + 4) & 0x0F) | ((s(j - 4) >> 6) << 4)
                    let m = j < 4 ? s(j + 4) & 63 : (s(j + 4) >> 4) | ((s(j) >> 6) << 4)
                    let scale = d * Float(sc), minimum = dmin * Float(m)
                    for l in 0..<32 {
                        let byte = bytes[base + 16 + 32 * (j / 2) + l]
                        let q = j % 2 == 0 ? byte & 0x0F : byte >> 4
                        out[b * 256 + 32 * j + l] = scale * Float(q) - minimum
                    }
                }
            }
        case .q6_K:
            // Super-block (210 bytes) of 256: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 signed
            // 8-bit scales (one per 16 elements), fp16 d last. Element e = 128 h + 32 k + l (h < 2,
            // k < 4, l < 32): low bits from ql[64 h + 32 (k % 2) + l] (low nibble for k < 2, high
            // for k >= 2), high bits = bits 2k, 2k+1 of qh[32 h + l]. x = (d * scale[e / 16]) * (q - 32)
            for b in 0..<count / 256 {
                let base = b * 210
                let d = half(u16(base + 208))
                for e in 0..<256 {
                    let h = e / 128, k = (e % 128) / 32, l = e % 32
                    let lowByte = bytes[base + 64 * h + 32 * (k % 2) + l]
                    let low = Int(k < 2 ? lowByte & 0x0F : lowByte >> 4)
                    let high = Int((bytes[base + 128 + 32 * h + l] >> UInt8(2 * k)) & 3)
                    let scale = Int8(bitPattern: bytes[base + 192 + e / 16])
                    out[b * 256 + e] = d * Float(scale) * Float((low | (high << 4)) - 32)
                }
            }
        }
        return out
    }

    /// Dot product of a weight row with float activations, in Double for a tight reference.
    public static func dot(_ type: TensorType, _ row: UnsafeRawBufferPointer, _ x: [Float]) -> Double {
        let w = dequantize(type, row, count: x.count)
        var s = 0.0
        for i in 0..<x.count { s += Double(w[i]) * Double(x[i]) }
        return s
    }

    /// Quantizes floats into `type` blocks the way ggml's reference quantizers do (round to nearest).
    /// Used to build test weights and, later, load-time quantization.
    public static func quantize(_ type: TensorType, _ x: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        func put16(_ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
        func halfBits(_ f: Float) -> UInt16 { Float16(f).bitPattern }
        switch type {
        case .f32:
            for v in x { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .f16:
            for v in x { put16(halfBits(v)) }
        case .bf16:
            for v in x { put16(UInt16(v.bitPattern >> 16)) }
        case .q8_0:
            for b in 0..<x.count / 32 {
                let block = x[b * 32..<(b + 1) * 32]
                let amax = block.map { abs($0) }.max() ?? 0
                let d = amax / 127
                let id: Float = d != 0 ? 1 / d : 0
                put16(halfBits(d))
                for v in block { out.append(UInt8(bitPattern: Int8((v * id).rounded()))) }
            }
        case .q4_0:
            for b in 0..<x.count / 32 {
                let block = Array(x[b * 32..<(b + 1) * 32])
                var maxv: Float = 0
                for v in block where abs(v) > abs(maxv) { maxv = v }
                let d = maxv / -8
                let id: Float = d != 0 ? 1 / d : 0
                put16(halfBits(d))
                func q(_ v: Float) -> UInt8 { UInt8(min(15, Int((v * id + 8.5).rounded(.down)))) }
                for j in 0..<16 { out.append(q(block[j]) | (q(block[j + 16]) << 4)) }
            }
        case .q4_1:
            for b in 0..<x.count / 32 {
                let block = Array(x[b * 32..<(b + 1) * 32])
                let lo = block.min() ?? 0, hi = block.max() ?? 0
                let d = (hi - lo) / 15
                let id: Float = d != 0 ? 1 / d : 0
                put16(halfBits(d))
                put16(halfBits(lo))
                func q(_ v: Float) -> UInt8 { UInt8(min(15, Int(((v - lo) * id + 0.5).rounded(.down)))) }
                for j in 0..<16 { out.append(q(block[j]) | (q(block[j + 16]) << 4)) }
            }
        case .q5_0:
            // ggml's quantize_row_q5_0_ref.
            for b in 0..<x.count / 32 {
                let block = Array(x[b * 32..<(b + 1) * 32])
                var maxv: Float = 0
                for v in block where abs(v) > abs(maxv) { maxv = v }
                let d = maxv / -16
                let id: Float = d != 0 ? 1 / d : 0
                put16(halfBits(d))
                let q = block.map { UInt8(min(31, Int(($0 * id + 16.5).rounded(.down)))) }
                var qh: UInt32 = 0
                for j in 0..<32 { qh |= UInt32(q[j] >> 4) << UInt32(j) }
                for k in 0..<4 { out.append(UInt8((qh >> (8 * UInt32(k))) & 0xFF)) }
                for j in 0..<16 { out.append((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4)) }
            }
        case .q4_K:
            // ggml's quantize_row_q4_K_ref without the iterative scale refinement (make_qkx2_quants'
            // search): per sub-block scale (max - min) / 15 with min clamped to <= 0, scales and
            // minimums quantized to 6 bits against the super-block's largest, round to nearest.
            for b in 0..<x.count / 256 {
                let block = Array(x[b * 256..<(b + 1) * 256])
                var scales = [Float](repeating: 0, count: 8), mins = scales
                for j in 0..<8 {
                    let sub = block[32 * j..<32 * (j + 1)]
                    let lo = min(sub.min()!, 0), hi = sub.max()!
                    scales[j] = (hi - lo) / 15
                    mins[j] = -lo
                }
                let maxScale = scales.max()!, maxMin = mins.max()!
                let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
                let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
                var packed = [UInt8](repeating: 0, count: 12)
                var sc = [Int](repeating: 0, count: 8), mn = sc
                for j in 0..<8 {
                    let ls = min(63, Int((invScale * scales[j]).rounded(.toNearestOrEven)))
                    let lm = min(63, Int((invMin * mins[j]).rounded(.toNearestOrEven)))
                    sc[j] = ls; mn[j] = lm
                    if j < 4 {
                        packed[j] = UInt8(ls); packed[j + 4] = UInt8(lm)
                    } else {
                        packed[j + 4] = UInt8((ls & 0x0F) | ((lm & 0x0F) << 4))
                        packed[j - 4] |= UInt8((ls >> 4) << 6)
                        packed[j] |= UInt8((lm >> 4) << 6)
                    }
                }
                let dBits = halfBits(maxScale / 63), dminBits = halfBits(maxMin / 63)
                put16(dBits); put16(dminBits)
                out.append(contentsOf: packed)
                let d = half(dBits), dmin = half(dminBits)
                var levels = [UInt8](repeating: 0, count: 256)
                for j in 0..<8 {
                    let step = d * Float(sc[j])
                    guard step != 0 else { continue }
                    let dm = dmin * Float(mn[j])
                    for i in 0..<32 {
                        let l = Int(((block[32 * j + i] + dm) / step).rounded(.toNearestOrEven))
                        levels[32 * j + i] = UInt8(max(0, min(15, l)))
                    }
                }
                for g in 0..<4 {
                    for l in 0..<32 { out.append(levels[64 * g + l] | (levels[64 * g + 32 + l] << 4)) }
                }
            }
        case .q6_K:
            // ggml's quantize_row_q6_K_ref without make_qx_quants' refinement: per 16 elements the
            // scale is the largest-magnitude value / -32, scales quantized to 8 bits against the
            // super-block's largest, round to nearest.
            for b in 0..<x.count / 256 {
                let block = Array(x[b * 256..<(b + 1) * 256])
                var scales = [Float](repeating: 0, count: 16)
                var maxScale: Float = 0
                for j in 0..<16 {
                    var maxv: Float = 0
                    for v in block[16 * j..<16 * (j + 1)] where abs(v) > abs(maxv) { maxv = v }
                    scales[j] = maxv / -32
                    if abs(scales[j]) > abs(maxScale) { maxScale = scales[j] }
                }
                var levels = [Int](repeating: 32, count: 256)
                var scaleBytes = [UInt8](repeating: 0, count: 16)
                var dBits: UInt16 = 0
                if abs(maxScale) >= 1e-15 {
                    let iscale = -128 / maxScale
                    dBits = halfBits(1 / iscale)
                    let d = half(dBits)
                    for j in 0..<16 {
                        let ls = Int8(min(127, Int((iscale * scales[j]).rounded(.toNearestOrEven))))
                        scaleBytes[j] = UInt8(bitPattern: ls)
                        let step = d * Float(ls)
                        guard step != 0 else { continue }
                        for i in 0..<16 {
                            let l = Int((block[16 * j + i] / step).rounded(.toNearestOrEven))
                            levels[16 * j + i] = max(-32, min(31, l)) + 32
                        }
                    }
                }
                var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
                for h in 0..<2 {
                    for l in 0..<32 {
                        let q = (0..<4).map { levels[128 * h + 32 * $0 + l] }
                        ql[64 * h + l] = UInt8((q[0] & 0x0F) | ((q[2] & 0x0F) << 4))
                        ql[64 * h + 32 + l] = UInt8((q[1] & 0x0F) | ((q[3] & 0x0F) << 4))
                        qh[32 * h + l] = UInt8((q[0] >> 4) | ((q[1] >> 4) << 2) | ((q[2] >> 4) << 4) | ((q[3] >> 4) << 6))
                    }
                }
                out.append(contentsOf: ql)
                out.append(contentsOf: qh)
                out.append(contentsOf: scaleBytes)
                put16(dBits)
            }
        }
        return out
    }
}
