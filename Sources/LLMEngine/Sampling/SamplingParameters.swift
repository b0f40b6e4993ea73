/// How to pick tokens, as the OpenAI API defines it (plus `topK`). Validated by the API layer.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy.
    public var temperature: Float = 1
    public var topP: Float = 1
    /// 0 disables top-k.
    public var topK: Int = 0
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// Fixed seed for reproducible sampling; nil picks a random one.
    public var seed: UInt64?

    public init(temperature: Float = 1, topP: Float = 1, topK: Int = 0, presencePenalty: Float = 0,
                frequencyPenalty: Float = 0, seed: UInt64? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters(temperature: 0)
}
