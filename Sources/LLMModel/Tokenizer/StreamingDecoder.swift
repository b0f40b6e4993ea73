/// Turns tokens into text incrementally without ever emitting half of a multi-byte UTF-8
/// character: bytes of an incomplete character are held until the next token completes it.
public struct StreamingDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Text that is complete after adding `bytes` (possibly empty).
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let keep = Self.incompleteTailLength(pending)
        let ready = pending.count - keep
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[0..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Whatever is left (an unfinished character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of a trailing, still-completable UTF-8 sequence (0 if the tail is complete or invalid).
    static func incompleteTailLength(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && b[i] & 0xC0 == 0x80 { continuation += 1; i -= 1 }
        guard i >= 0 else { return 0 }
        let lead = b[i]
        let need: Int
        if lead & 0xE0 == 0xC0 { need = 1 } else if lead & 0xF0 == 0xE0 { need = 2 } else if lead & 0xF8 == 0xF0 { need = 3 } else { return 0 }
        return continuation < need ? continuation + 1 : 0
    }
}
