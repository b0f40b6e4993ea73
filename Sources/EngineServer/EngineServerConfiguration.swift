import LLMEngine

/// Everything `scalellm engine` needs to serve a model.
public struct EngineServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (reported through `onListening`).
    public var port: Int
    public var modelPath: String
    /// Names the model answers to (the first is shown in /v1/models); default: the file name.
    public var servedModelNames: [String]
    public var engine: EngineConfiguration
    /// Largest request body accepted (413 above).
    public var maxBodyBytes: Int
    /// Tensor-parallel workers (1: the model is not split).
    public var tensorParallel: Int

    public init(host: String = "127.0.0.1", port: Int = 8000, modelPath: String, servedModelNames: [String] = [],
                engine: EngineConfiguration = .init(), maxBodyBytes: Int = 4 << 20, tensorParallel: Int = 1) {
        self.host = host
        self.port = port
        self.modelPath = modelPath
        self.servedModelNames = servedModelNames
        self.engine = engine
        self.maxBodyBytes = maxBodyBytes
        self.tensorParallel = tensorParallel
    }
}
