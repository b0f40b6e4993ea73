import LLMEngine
import LLMModel
import OpenAIAPI

/// What a validated request asks the engine for.
struct ValidatedRequest: Sendable {
    var promptTokens: [Int]
    var maxTokens: Int
    var sampling: SamplingParameters
    var stop: [String]
    var stream: Bool
    var includeUsage: Bool
    var ignoreEOS: Bool
}

/// Checks OpenAI request fields and turns them into engine parameters, throwing a 400 that names
/// the offending field for anything out of range or unsupported.
struct RequestValidator: Sendable {
    let modelNames: Set<String>
    let contextLength: Int
    let vocabularySize: Int

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    func checkModel(_ model: String?) throws(OpenAIError) {
        if let model, !model.isEmpty, !modelNames.contains(model) { throw .modelNotFound(model) }
    }

    /// Renders and tokenizes a chat request.
    func chatPrompt(_ r: ChatCompletionRequest, model: LoadedModel) throws(OpenAIError) -> [Int] {
        guard !r.messages.isEmpty else { throw .invalidRequest("'messages' must contain at least one message", param: "messages") }
        var messages: [ChatMessage] = []
        for (i, m) in r.messages.enumerated() {
            guard Self.roles.contains(m.role) else {
                throw .invalidRequest("messages[\(i)].role '\(m.role)' is not one of system, developer, user, assistant, tool",
                                      param: "messages[\(i)].role")
            }
            messages.append(ChatMessage(role: m.role == "developer" ? "system" : m.role, content: m.content?.text ?? ""))
        }
        if let tools = r.tools, !tools.isEmpty {
            throw .invalidRequest("'tools' (function calling) is not supported by this server", param: "tools")
        }
        if let f = r.responseFormat, f.type != "text" {
            throw .invalidRequest("response_format '\(f.type)' is not supported (only 'text')", param: "response_format")
        }
        let text = model.chatTemplate.render(messages, addGenerationPrompt: true)
        return model.tokenizer.encode(text)
    }

    /// Tokenizes a completions prompt.
    func completionPrompt(_ r: CompletionRequest, model: LoadedModel) throws(OpenAIError) -> [Int] {
        if r.echo == true { throw .invalidRequest("'echo' is not supported", param: "echo") }
        if let s = r.suffix, !s.isEmpty { throw .invalidRequest("'suffix' is not supported", param: "suffix") }
        switch r.prompt {
        case .text(let t):
            guard !t.isEmpty else { throw .invalidRequest("'prompt' must not be empty", param: "prompt") }
            return model.tokenizer.encode(t)
        case .tokens(let ids):
            guard !ids.isEmpty else { throw .invalidRequest("'prompt' must not be empty", param: "prompt") }
            if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
                throw .invalidRequest("prompt token id \(bad) is outside the vocabulary (0..<\(vocabularySize))", param: "prompt")
            }
            return ids
        }
    }

    /// Sampling, limits and streaming options shared by both endpoints.
    func parameters(_ r: any SamplingRequest, prompt: [Int], promptParam: String, defaultMaxTokens: Int?) throws(OpenAIError) -> ValidatedRequest {
        if let n = r.n, n != 1 { throw .invalidRequest("only n=1 is supported (got n=\(n))", param: "n") }
        if let b = r.bestOf, b != 1 { throw .invalidRequest("only best_of=1 is supported", param: "best_of") }
        if r.logprobs?.requested == true { throw .invalidRequest("'logprobs' is not supported", param: "logprobs") }
        if let bias = r.logitBias, !bias.isEmpty { throw .invalidRequest("'logit_bias' is not supported", param: "logit_bias") }
        let temperature = r.temperature ?? 1
        guard temperature >= 0 && temperature <= 2 else {
            throw .invalidRequest("temperature must be between 0 and 2 (got \(temperature))", param: "temperature")
        }
        let topP = r.topP ?? 1
        guard topP > 0 && topP <= 1 else { throw .invalidRequest("top_p must be in (0, 1] (got \(topP))", param: "top_p") }
        let topK = r.topK ?? 0
        guard topK >= -1 else { throw .invalidRequest("top_k must be -1, 0 (off) or positive (got \(topK))", param: "top_k") }
        let presence = r.presencePenalty ?? 0
        guard presence >= -2 && presence <= 2 else {
            throw .invalidRequest("presence_penalty must be between -2 and 2", param: "presence_penalty")
        }
        let frequency = r.frequencyPenalty ?? 0
        guard frequency >= -2 && frequency <= 2 else {
            throw .invalidRequest("frequency_penalty must be between -2 and 2", param: "frequency_penalty")
        }
        let stops = r.stop?.values ?? []
        guard stops.count <= 16 else { throw .invalidRequest("at most 16 stop sequences are supported", param: "stop") }
        if stops.contains(where: \.isEmpty) { throw .invalidRequest("stop sequences must not be empty", param: "stop") }

        let room = contextLength - prompt.count
        guard room >= 1 else {
            throw .invalidRequest("This model's maximum context length is \(contextLength) tokens. However, your prompt has \(prompt.count) tokens.",
                                  param: promptParam)
        }
        let maxTokens: Int
        if let asked = r.requestedMaxTokens {
            let field = (r as? ChatCompletionRequest)?.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
            guard asked >= 1 else { throw .invalidRequest("\(field) must be at least 1 (got \(asked))", param: field) }
            guard asked <= room else {
                throw .invalidRequest("This model's maximum context length is \(contextLength) tokens. However, you requested \(asked + prompt.count) tokens (\(prompt.count) in the prompt, \(asked) for the completion). Please reduce the prompt or \(field).",
                                      param: field)
            }
            maxTokens = asked
        } else {
            maxTokens = min(room, defaultMaxTokens ?? room)
        }
        let sampling = SamplingParameters(temperature: Float(temperature), topP: Float(topP), topK: max(0, topK),
                                          presencePenalty: Float(presence), frequencyPenalty: Float(frequency),
                                          seed: r.seed.map { UInt64(bitPattern: Int64($0)) })
        return ValidatedRequest(promptTokens: prompt, maxTokens: maxTokens, sampling: sampling, stop: stops,
                                stream: r.stream ?? false, includeUsage: r.streamOptions?.includeUsage ?? false,
                                ignoreEOS: r.ignoreEOS ?? false)
    }
}
