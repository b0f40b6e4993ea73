/// Everything needed to serve one GGUF file: the parsed file, model, tokenizer and chat template.
public final class LoadedModel: Sendable {
    public let path: String
    public let gguf: GGUFFile
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate
    /// Name shown in the API: the file name without `.gguf`.
    public let name: String

    public init(path: String) throws(ModelError) {
        self.path = path
        gguf = try GGUFFile(path: path)
        model = try ModelRegistry.load(gguf)
        tokenizer = try Tokenizer(gguf: gguf)
        guard tokenizer.vocabularySize == model.config.vocabularySize else {
            throw .badMetadata(key: "tokenizer.ggml.tokens",
                               reason: "\(tokenizer.vocabularySize) tokens but the model has \(model.config.vocabularySize) outputs")
        }
        chatTemplate = ChatTemplate(jinjaSource: gguf.metadata["tokenizer.chat_template"]?.string)
        let file = path.split(separator: "/").last.map(String.init) ?? path
        name = file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file
    }
}
