/// `stream_options`.
public struct StreamOptions: Codable, Sendable, Equatable {
    public var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    public init(includeUsage: Bool?) { self.includeUsage = includeUsage }
}

/// Sampling fields common to chat and text completions.
public protocol SamplingRequest: Sendable {
    var model: String? { get }
    var temperature: Double? { get }
    var topP: Double? { get }
    var topK: Int? { get }
    var n: Int? { get }
    var stream: Bool? { get }
    var streamOptions: StreamOptions? { get }
    var stop: StopSequences? { get }
    var presencePenalty: Double? { get }
    var frequencyPenalty: Double? { get }
    var seed: Int? { get }
    var logprobs: LogprobsFlag? { get }
    var bestOf: Int? { get }
    var logitBias: [String: Double]? { get }
    /// vLLM extension: keep generating past end-of-sequence tokens (benchmarks).
    var ignoreEOS: Bool? { get }
    /// The token limit asked for (max_completion_tokens wins over max_tokens).
    var requestedMaxTokens: Int? { get }
}

/// `logprobs`: a boolean for chat, an integer for completions; any request for them is refused.
public struct LogprobsFlag: Codable, Sendable, Equatable {
    public var requested: Bool
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { requested = false } else if let b = try? c.decode(Bool.self) { requested = b } else {
            requested = try c.decode(Int.self) > 0
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(requested)
    }
}

/// One message of a chat request.
public struct ChatMessageParam: Codable, Sendable, Equatable {
    public var role: String
    public var content: MessageContent?
    public var name: String?
    public init(role: String, content: String) {
        self.role = role
        self.content = MessageContent(content)
    }
}

/// `POST /v1/chat/completions` body.
public struct ChatCompletionRequest: Codable, Sendable, SamplingRequest {
    public var model: String?
    public var messages: [ChatMessageParam]
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var n: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var stop: StopSequences?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var seed: Int?
    public var logprobs: LogprobsFlag?
    public var bestOf: Int?
    public var logitBias: [String: Double]?
    public var ignoreEOS: Bool?
    public var tools: [JSONAny]?
    public var responseFormat: ResponseFormat?
    public var user: String?

    public var requestedMaxTokens: Int? { maxCompletionTokens ?? maxTokens }

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, n, stream, stop, seed, logprobs, tools, user
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p", topK = "top_k"
        case streamOptions = "stream_options", presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty", bestOf = "best_of", logitBias = "logit_bias", ignoreEOS = "ignore_eos"
        case responseFormat = "response_format"
    }

    public init(model: String?, messages: [ChatMessageParam]) {
        self.model = model
        self.messages = messages
    }
}

/// `response_format`: only `{"type": "text"}` is served.
public struct ResponseFormat: Codable, Sendable, Equatable {
    public var type: String
}

/// Any JSON value, kept only to notice that a field was sent.
public struct JSONAny: Codable, Sendable, Equatable {
    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encodeNil()
    }
}

/// `POST /v1/completions` body.
public struct CompletionRequest: Codable, Sendable, SamplingRequest {
    public var model: String?
    public var prompt: PromptInput
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var n: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var stop: StopSequences?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var seed: Int?
    public var logprobs: LogprobsFlag?
    public var bestOf: Int?
    public var logitBias: [String: Double]?
    public var ignoreEOS: Bool?
    public var echo: Bool?
    public var suffix: String?
    public var user: String?

    public var requestedMaxTokens: Int? { maxTokens }

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, n, stream, stop, seed, logprobs, echo, suffix, user
        case maxTokens = "max_tokens", topP = "top_p", topK = "top_k"
        case streamOptions = "stream_options", presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty", bestOf = "best_of", logitBias = "logit_bias", ignoreEOS = "ignore_eos"
    }

    public init(model: String?, prompt: PromptInput) {
        self.model = model
        self.prompt = prompt
    }
}
