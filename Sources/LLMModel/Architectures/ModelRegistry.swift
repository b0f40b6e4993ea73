/// Maps `general.architecture` to the type implementing it.
public enum ModelRegistry {
    public typealias Constructor = @Sendable (GGUFFile) throws(ModelError) -> any LanguageModel

    /// Supported architectures.
    public static let architectures: [String: Constructor] = [
        "llama": { (f: GGUFFile) throws(ModelError) -> any LanguageModel in try LlamaModel(gguf: f) },
        "gemma3": { (f: GGUFFile) throws(ModelError) -> any LanguageModel in try Gemma3Model(gguf: f) },
    ]

    /// Builds the model for a parsed file, or throws unsupportedArchitecture.
    public static func load(_ gguf: GGUFFile) throws(ModelError) -> any LanguageModel {
        let arch = try gguf.string("general.architecture")
        guard let make = architectures[arch] else { throw .unsupportedArchitecture(arch) }
        return try make(gguf)
    }
}
