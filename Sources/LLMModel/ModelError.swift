/// Errors while reading a model file or building a model from it. Each names the problem and,
/// where there is one, the tensor or metadata key.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String)
    case format(String)
    case truncated(String)
    case unsupportedVersion(UInt32)
    case unsupportedTensorType(tensor: String, type: String)
    case missingTensor(String)
    case badTensorShape(tensor: String, expected: [Int], found: [Int])
    case missingMetadata(String)
    case badMetadata(key: String, reason: String)
    case unsupportedArchitecture(String)
    case parallelism(String)

    public var description: String {
        switch self {
        case .io(let m): "I/O error: \(m)"
        case .format(let m): "not a valid GGUF file: \(m)"
        case .truncated(let m): "GGUF file is truncated: \(m)"
        case .unsupportedVersion(let v): "unsupported GGUF version \(v) (supported: 2, 3)"
        case .unsupportedTensorType(let t, let type): "tensor '\(t)' has unsupported type \(type) (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K, Q6_K)"
        case .missingTensor(let t): "model file lacks tensor '\(t)'"
        case .badTensorShape(let t, let e, let f): "tensor '\(t)' has shape \(f), expected \(e)"
        case .missingMetadata(let k): "model file lacks metadata key '\(k)'"
        case .badMetadata(let k, let r): "metadata '\(k)': \(r)"
        case .unsupportedArchitecture(let a): "unsupported model architecture '\(a)'"
        case .parallelism(let m): "tensor parallelism: \(m)"
        }
    }
}
