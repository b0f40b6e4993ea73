import NIOCore
import OpenAIAPI

/// What the gateway reads from a completion request body: enough to route it (the prompt text for
/// prefix affinity), to check it is JSON, and to estimate its tokens for per-key limits.
public struct RoutingHints: Sendable {
    public var model: String?
    public var stream = false
    /// Prompt text: the completion prompt, or the chat messages as "role\ncontent\n" lines.
    public var promptText = ""
    public var maxTokens: Int?

    public init() {}

    /// Parses a request body; a 400 naming the problem when it is not a JSON object.
    public static func parse(_ body: ByteBuffer) throws -> RoutingHints {
        guard body.readableBytes > 0 else { throw OpenAIError.invalidRequest("The request body is empty; expected a JSON object") }
        let parsed = body.withUnsafeReadableBytes { bytes -> (RoutingHints, isObject: Bool)? in
            var scanner = HintScanner(bytes)
            return try? scanner.hints()
        }
        guard let parsed else { throw OpenAIError.invalidRequest("The request body is not valid JSON") }
        guard parsed.isObject else { throw OpenAIError.invalidRequest("The request body must be a JSON object") }
        return parsed.0
    }

    /// Estimated tokens this request may use: prompt at ~4 characters a token plus its completion budget.
    public var estimatedTokens: Int {
        promptText.utf8.count / 4 + 1 + (maxTokens ?? 16)
    }

    /// Chained 64-bit hashes of the prompt's leading blocks (FNV-1a over UTF-8): hash i covers
    /// blocks 0...i, so two prompts share hash i exactly when they share their first i+1 blocks.
    /// A prompt shorter than one block yields one hash of the whole prompt.
    public func prefixHashes(blockChars: Int, maxBlocks: Int) -> [UInt64] {
        var hashes: [UInt64] = []
        var h = FNV1a.offsetBasis
        var n = 0
        for byte in promptText.utf8 {
            h = FNV1a.step(h, byte)
            n += 1
            if n == blockChars {
                hashes.append(h)
                n = 0
                if hashes.count == maxBlocks { break }
            }
        }
        if hashes.isEmpty && n > 0 { hashes.append(h) }
        return hashes
    }
}

/// 64-bit FNV-1a, for prompt-prefix block hashes and rendezvous hashing.
enum FNV1a {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    static func step(_ h: UInt64, _ byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }

    static func hash(_ bytes: some Sequence<UInt8>, seed: UInt64 = offsetBasis) -> UInt64 {
        bytes.reduce(seed, step)
    }
}
