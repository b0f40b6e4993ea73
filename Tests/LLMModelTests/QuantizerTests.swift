import CKernels
import Foundation
import LLMModel
import LLMTensor
import Testing

/// Own quantization: the row quantizers against ggml's rounding rules, and whole models rewritten by
/// the Quantizer (the F32 rewrite of the default model must give the same logits; Q8_0 from it stays
/// close to the reference).
@Suite("Quantization", .serialized)
struct QuantizerTests {
    static func random(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 * (Float((s >> 7) % 3) + 0.1)
        }
    }

    @Test func rowQuantizersFollowGGMLRounding() {
        let x = Self.random(256, seed: 7)
        for type in [TensorType.q8_0, .q4_0] {
            var bytes = [UInt8](repeating: 0, count: type.byteCount(elements: 256)!)
            let written = bytes.withUnsafeMutableBytes { ck_quantize_row(Int32(type.rawValue), x, $0.baseAddress, 256) }
            #expect(written == bytes.count)
            var back = [Float](repeating: 0, count: 256)
            bytes.withUnsafeBytes { ck_dequantize_row(Int32(type.rawValue), $0.baseAddress, &back, 256) }
            for b in 0..<8 {
                let block = x[(b * 32)..<(b * 32 + 32)]
                let amax = block.map(abs).max()!
                // Q8_0: d = amax/127, error ≤ d/2; Q4_0: d = amax/8, error ≤ d/2 (+ fp16 rounding of d).
                let d = type == .q8_0 ? amax / 127 : amax / 8
                for j in 0..<32 {
                    #expect(abs(back[b * 32 + j] - x[b * 32 + j]) <= d * 0.5 + amax * 2e-3,
                            "\(type) block \(b) element \(j): \(x[b * 32 + j]) -> \(back[b * 32 + j])")
                }
            }
        }
        // Q4_0 maps the element of largest magnitude exactly (to -8 * d).
        var q = [UInt8](repeating: 0, count: 18)
        let block: [Float] = (0..<32).map { $0 == 5 ? -3.0 : Float($0) / 32 }
        _ = q.withUnsafeMutableBytes { ck_quantize_row(Int32(TensorType.q4_0.rawValue), block, $0.baseAddress, 32) }
        var back = [Float](repeating: 0, count: 32)
        q.withUnsafeBytes { ck_dequantize_row(Int32(TensorType.q4_0.rawValue), $0.baseAddress, &back, 32) }
        #expect(abs(back[5] + 3) < 1e-3)
        #expect(ck_quantize_row(Int32(TensorType.q4_0.rawValue), block, &q, 31) == 0, "a partial block is refused")
    }

    @Test func f32RewriteKeepsTheLogitsAndQ8StaysClose() throws {
        let original = TestModel.shared
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scalellm-test-f32-\(UUID().uuidString).gguf").path
        defer { unlink(path) }
        try Quantizer.write(original.gguf, to: .f32, path: path)
        let f32 = try LoadedModel(path: path)
        #expect(try f32.gguf.tensor("blk.0.attn_q.weight").type == .f32)
        #expect(try f32.gguf.tensor("blk.0.attn_norm.weight").type == .f32)
        let c = ReferenceCase.all[0]
        let a = FidelityTests.lastLogits(original, c.ids)
        let b = FidelityTests.lastLogits(f32, c.ids)
        let maxDiff = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(maxDiff < 1e-2, "Q4_1 dequantized to F32 computes the same function: \(maxDiff)")

        // Load-time quantization of the F32 file stays close to it.
        let loadTime = try LoadedModel(path: path, quantize: .q8_0)
        #expect(try loadTime.gguf.tensor("blk.0.ffn_up.weight").type == .q8_0)
        let q = FidelityTests.lastLogits(loadTime, c.ids)
        #expect(FidelityTests.top(q, 1) == FidelityTests.top(b, 1))
        #expect(FidelityTests.pearson(q, b) > 0.999)
        #expect(throws: ModelError.self) { try LoadedModel(path: path, quantize: .f16) }
    }
}
