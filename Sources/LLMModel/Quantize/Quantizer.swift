import CKernels
import Foundation
import LLMTensor

/// Rewrites a GGUF model's weights in another format: every 2-D weight (rows a multiple of 32
/// long) becomes `target`; 1-D tensors (norm weights) stay F32. With `onlyFromFloat`, tensors that
/// are already quantized are copied as they are (load-time quantization of F32/F16/BF16 models).
public enum Quantizer {
    /// Formats weights can be written in.
    public static let targets: [TensorType] = [.f32, .f16, .bf16, .q8_0, .q4_0]

    /// llama.cpp's `general.file_type` for a model whose weights are mostly `type`.
    static func fileType(_ type: TensorType) -> UInt32 {
        switch type {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .bf16: 32
        case .q5_0: 8
        case .q4_K: 15
        case .q6_K: 18
        }
    }

    /// The rewritten file; `progress` is called with each tensor's name.
    public static func convert(_ file: GGUFFile, to target: TensorType, onlyFromFloat: Bool = false,
                               progress: (String) -> Void = { _ in }) throws(ModelError) -> GGUFWriter {
        guard targets.contains(target) else {
            throw .format("cannot write \(target) weights; supported: \(targets.map(\.description).joined(separator: ", "))")
        }
        var writer = GGUFWriter()
        writer.alignment = 32
        for key in file.metadata.keys.sorted() where key != "general.alignment" && key != "general.file_type" {
            writer.metadata.append((key, file.metadata[key]!))
        }
        writer.metadata.append(("general.file_type", .uint32(fileType(target))))
        for name in file.tensorNames {
            let info = try file.tensor(name)
            progress(name)
            let rowLength = info.dims.first ?? 0
            let isFloat = [.f32, .f16, .bf16].contains(info.type)
            let convert = info.dims.count == 2 && (!target.isQuantized || rowLength % 32 == 0)
                && (!onlyFromFloat || isFloat) && info.type != target
            guard convert else {
                let bytes = UnsafeRawBufferPointer(start: file.data(info), count: info.byteCount)
                writer.tensors.append(.init(name: name, dims: info.dims, type: info.type, data: Array(bytes)))
                continue
            }
            let rows = info.elementCount / rowLength
            let srcRowBytes = info.byteCount / rows
            guard let dstRowBytes = target.byteCount(elements: rowLength) else {
                throw .format("tensor '\(name)' rows of \(rowLength) cannot be stored as \(target)")
            }
            var out = [UInt8](repeating: 0, count: rows * dstRowBytes)
            var row = [Float](repeating: 0, count: rowLength)
            let src = file.data(info)
            out.withUnsafeMutableBytes { dst in
                row.withUnsafeMutableBufferPointer { r in
                    for i in 0..<rows {
                        ck_dequantize_row(Int32(info.type.rawValue), src + i * srcRowBytes, r.baseAddress, Int64(rowLength))
                        _ = ck_quantize_row(Int32(target.rawValue), r.baseAddress, dst.baseAddress! + i * dstRowBytes, Int64(rowLength))
                    }
                }
            }
            writer.tensors.append(.init(name: name, dims: info.dims, type: target, data: out))
        }
        return writer
    }

    /// Writes `file` converted to `target` at `path`.
    public static func write(_ file: GGUFFile, to target: TensorType, path: String, onlyFromFloat: Bool = false,
                             progress: (String) -> Void = { _ in }) throws(ModelError) {
        let writer = try convert(file, to: target, onlyFromFloat: onlyFromFloat, progress: progress)
        guard FileManager.default.createFile(atPath: path, contents: Data(writer.bytes())) else {
            throw .format("cannot write '\(path)'")
        }
    }
}
