/// Maps `general.architecture` to the type implementing it.
public enum ModelRegistry {
    public typealias Constructor = @Sendable (GGUFFile) throws(ModelError) -> any LanguageModel

    /// Supported architectures.
    public static let architectures: [String: Constructor] = [
        "llama": { (f: GGUFFile) throws(ModelError) -> any LanguageModel in try LlamaModel(gguf: f) },
        "gemma3": { (f: GGUFFile) throws(ModelError) -> any LanguageModel in try Gemma3Model(gguf: f) },
    ]

    /// Builds the model for a parsed file, or throws unsupportedArchitecture; with
    /// `tensorParallel` > 1, split among that many workers (Llama-architecture models).
    public static func load(_ gguf: GGUFFile, tensorParallel: Int = 1) throws(ModelError) -> any LanguageModel {
        let arch = try gguf.string("general.architecture")
        guard let make = architectures[arch] else { throw .unsupportedArchitecture(arch) }
        let model = try make(gguf)
        guard tensorParallel != 1 else { return model }
        guard let llama = model as? LlamaModel else {
            throw .parallelism("architecture '\(arch)' runs on one worker only (tensor parallelism supports: llama)")
        }
        return try TensorParallelLlama(llama, workers: tensorParallel)
    }
}
