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
        }
        return out
    }
}
