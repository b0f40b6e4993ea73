/// `stop`: a string or an array of strings.
public struct StopSequences: Codable, Sendable, Equatable {
    public var values: [String]
    public init(_ values: [String]) { self.values = values }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { values = [] } else if let s = try? c.decode(String.self) { values = [s] } else {
            values = try c.decode([String].self)
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

/// A message's `content`: a string, or an array of parts of which the text parts are used.
public struct MessageContent: Codable, Sendable, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }

    struct Part: Codable { var type: String; var text: String? }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = ""; return }
        if let s = try? c.decode(String.self) { text = s; return }
        let parts = try c.decode([Part].self)
        var out = ""
        for (i, p) in parts.enumerated() {
            guard p.type == "text", let t = p.text else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "content part \(i) has type '\(p.type)'; only text parts are supported"))
            }
            out += t
        }
        text = out
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

/// `/v1/completions` `prompt`: a string, an array of one string, or an array of token ids.
public enum PromptInput: Codable, Sendable, Equatable {
    case text(String)
    case tokens([Int])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s); return }
        if let t = try? c.decode([Int].self) { self = .tokens(t); return }
        if let a = try? c.decode([String].self) {
            guard a.count == 1 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "only one prompt per request is supported (got \(a.count))"))
            }
            self = .text(a[0]); return
        }
        throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
            debugDescription: "expected a string, an array of one string, or an array of token ids"))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .tokens(let t): try c.encode(t)
        }
    }
}
