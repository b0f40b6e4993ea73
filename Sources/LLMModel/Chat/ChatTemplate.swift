/// One message of a chat, as the OpenAI API carries it.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Renders chat messages into the prompt text a model was trained on.
///
/// Templates are recognised by family from `tokenizer.chat_template` rather than executed as
/// Jinja: ChatML (`<|im_start|>role\n…<|im_end|>\n`, used by SmolLM, Qwen and many others), with
/// the default system prompt that the template inserts when the chat has none, Llama 3 headers, and
/// Gemma turns (`<start_of_turn>user\n…<end_of_turn>\n`, the assistant called `model`, a system
/// message folded into the first user turn). A file without a template gets Gemma's when its
/// vocabulary has `<start_of_turn>`, ChatML otherwise, as llama.cpp does.
public struct ChatTemplate: Sendable, Equatable {
    public enum Family: String, Sendable { case chatML, llama3, gemma }

    public let family: Family
    /// System prompt the template adds when the first message is not a system message.
    public let defaultSystemPrompt: String?

    public init(family: Family, defaultSystemPrompt: String? = nil) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// The template for a GGUF `tokenizer.chat_template` source (nil: no template in the file).
    public init(jinjaSource: String?, vocabularyHasGemmaTurns: Bool = false) {
        guard let source = jinjaSource else {
            self.init(family: vocabularyHasGemmaTurns ? .gemma : .chatML)
            return
        }
        if source.contains("<start_of_turn>") {
            self.init(family: .gemma)
            return
        }
        if source.contains("<|start_header_id|>") {
            self.init(family: .llama3)
            return
        }
        self.init(family: .chatML, defaultSystemPrompt: Self.defaultSystem(inChatML: source))
    }

    /// Prompt text for `messages`, ending with the assistant's turn opener when
    /// `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var out = ""
        switch family {
        case .chatML:
            if let sys = defaultSystemPrompt, messages.first?.role != "system" {
                out += "<|im_start|>system\n\(sys)<|im_end|>\n"
            }
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            out += "<|begin_of_text|>"
            for m in messages {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content.trimmingWhitespace())<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .gemma:
            // The beginning-of-sequence token comes from the tokenizer (add_bos_token).
            var turns = messages[...]
            var systemPrefix = ""
            if let first = turns.first, first.role == "system" {
                systemPrefix = first.content.trimmingWhitespace() + "\n\n"
                turns = turns.dropFirst()
            }
            for (i, m) in turns.enumerated() {
                let role = m.role == "assistant" ? "model" : m.role
                let prefix = i == 0 ? systemPrefix : ""
                out += "<start_of_turn>\(role)\n\(prefix)\(m.content.trimmingWhitespace())<end_of_turn>\n"
            }
            if turns.isEmpty && !systemPrefix.isEmpty { out += "<start_of_turn>user\n\(systemPrefix)<end_of_turn>\n" }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }
        }
        return out
    }

    /// The literal system text a ChatML template emits itself (e.g. SmolLM's "You are a helpful AI
    /// assistant named SmolLM…"), found as a quoted `<|im_start|>system\n…<|im_end|>` literal.
    static func defaultSystem(inChatML source: String) -> String? {
        let opener = Array("<|im_start|>system\n".unicodeScalars)
        let closer = Array("<|im_end|>".unicodeScalars)
        let s = Array(source.unicodeScalars)
        var i = 0
        while let start = s.firstRange(of: opener, from: i) {
            let body = start.upperBound
            guard let end = s.firstRange(of: closer, from: body) else { return nil }
            let text = s[body..<end.lowerBound]
            // A literal, not an expression like `' + message['content'] + '`.
            if !text.contains(where: { $0 == "'" || $0 == "\"" || $0 == "{" }) {
                var v = String.UnicodeScalarView()
                v.append(contentsOf: text)
                return String(v)
            }
            i = body
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}

extension Array where Element: Equatable {
    /// First occurrence of `pattern` at or after `from`.
    public func firstRange(of pattern: [Element], from: Int) -> Range<Int>? {
        guard !pattern.isEmpty, count >= pattern.count else { return nil }
        var i = from
        while i + pattern.count <= count {
            if self[i] == pattern[0] && Array(self[i..<i + pattern.count]) == pattern { return i..<i + pattern.count }
            i += 1
        }
        return nil
    }
}
