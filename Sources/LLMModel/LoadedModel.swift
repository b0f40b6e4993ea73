import Foundation
import LLMTensor

/// Everything needed to serve one GGUF file: the parsed file, model, tokenizer and chat template.
public final class LoadedModel: Sendable {
    public let path: String
    public let gguf: GGUFFile
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate
    /// Name shown in the API: the file name without `.gguf`.
    public let name: String

    /// Loads `path`; with `quantize`, its F32/F16/BF16 weights are converted to that format first
    /// (weights already quantized stay as they are).
    /// With `tensorParallel` > 1 the model is split among that many workers (TensorParallelLlama).
    public init(path: String, quantize: TensorType? = nil, tensorParallel: Int = 1) throws(ModelError) {
        self.path = path
        if let quantize {
            gguf = try Self.quantized(path: path, to: quantize)
        } else {
            gguf = try GGUFFile(path: path)
        }
        model = try ModelRegistry.load(gguf, tensorParallel: tensorParallel)
        tokenizer = try Tokenizer(gguf: gguf)
        guard tokenizer.vocabularySize == model.config.vocabularySize else {
            throw .badMetadata(key: "tokenizer.ggml.tokens",
                               reason: "\(tokenizer.vocabularySize) tokens but the model has \(model.config.vocabularySize) outputs")
        }
        chatTemplate = ChatTemplate(jinjaSource: gguf.metadata["tokenizer.chat_template"]?.string,
                                    vocabularyHasGemmaTurns: tokenizer.id(of: "<start_of_turn>") != nil)
        let file = path.split(separator: "/").last.map(String.init) ?? path
        name = file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file
    }

    /// Converts into a temporary file, maps it and unlinks it at once: the mapping keeps the data.
    static func quantized(path: String, to type: TensorType) throws(ModelError) -> GGUFFile {
        guard [.q8_0, .q4_0].contains(type) else {
            throw .format("load-time quantization supports q8_0 and q4_0, not \(type)")
        }
        let source = try GGUFFile(path: path)
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("scalellm-\(UUID().uuidString).gguf").path
        try Quantizer.write(source, to: type, path: temp, onlyFromFloat: true)
        defer { unlink(temp) }
        return try GGUFFile(path: temp)
    }
}
