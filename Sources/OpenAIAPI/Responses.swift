/// Token counts as OpenAI reports them.
public struct UsageInfo: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        totalTokens = promptTokens + completionTokens
    }
}

/// An assistant message in a chat response or stream delta.
public struct ChatMessageOut: Codable, Sendable, Equatable {
    public var role: String?
    public var content: String?
    public init(role: String?, content: String?) {
        self.role = role
        self.content = content
    }
}

/// `chat.completion` and `chat.completion.chunk` objects.
public struct ChatCompletionResponse: Codable, Sendable {
    public struct Choice: Codable, Sendable {
        public var index: Int
        public var message: ChatMessageOut?
        public var delta: ChatMessageOut?
        public var finishReason: String?

        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }

        public init(index: Int, message: ChatMessageOut? = nil, delta: ChatMessageOut? = nil, finishReason: String?) {
            self.index = index
            self.message = message
            self.delta = delta
            self.finishReason = finishReason
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            index = try c.decode(Int.self, forKey: .index)
            message = try c.decodeIfPresent(ChatMessageOut.self, forKey: .message)
            delta = try c.decodeIfPresent(ChatMessageOut.self, forKey: .delta)
            finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: UsageInfo?

    public init(id: String, object: String, created: Int, model: String, choices: [Choice], usage: UsageInfo?) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// `text_completion` objects (whole responses and stream chunks).
public struct CompletionResponse: Codable, Sendable {
    public struct Choice: Codable, Sendable {
        public var index: Int
        public var text: String
        public var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason" }

        public init(index: Int, text: String, finishReason: String?) {
            self.index = index
            self.text = text
            self.finishReason = finishReason
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            index = try c.decode(Int.self, forKey: .index)
            text = try c.decode(String.self, forKey: .text)
            finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: UsageInfo?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: UsageInfo?) {
        self.id = id
        object = "text_completion"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// `GET /v1/models`.
public struct ModelList: Codable, Sendable, Equatable {
    public struct Model: Codable, Sendable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var ownedBy: String
        public var maxModelLen: Int?
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", maxModelLen = "max_model_len" }
        public init(id: String, created: Int, ownedBy: String = "scalellm", maxModelLen: Int? = nil) {
            self.id = id
            object = "model"
            self.created = created
            self.ownedBy = ownedBy
            self.maxModelLen = maxModelLen
        }
    }
    public var object: String
    public var data: [Model]
    public init(data: [Model]) {
        object = "list"
        self.data = data
    }
}
