/// A single pass over a completion request's JSON that validates it and takes out only what
/// routing needs (`RoutingHints`), without building the whole document: strings are decoded only
/// for the model, roles and prompt text, everything else is checked and skipped. Replaces
/// Foundation's JSONSerialization here, which built every value as a Foundation object and cost
/// more than the rest of the proxying put together at low load (prefix affinity parses each body).
struct HintScanner {
    struct Invalid: Error {}

    private let b: UnsafeRawBufferPointer
    private var i = 0
    private var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        b = bytes
    }

    /// The hints of a top-level object; `notObject` when the JSON is valid but not an object.
    mutating func hints() throws -> (RoutingHints, isObject: Bool) {
        var h = RoutingHints()
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            try skipValue()
            try end()
            return (h, false)
        }
        var maxTokens: Int?, maxCompletionTokens: Int?
        var prompt: String?, messages: String?
        try object { key, s in
            switch key {
            case "model": h.model = try s.stringOrSkip()
            case "stream": h.stream = try s.boolOrSkip() ?? false
            case "max_tokens": maxTokens = try s.intOrSkip()
            case "max_completion_tokens": maxCompletionTokens = try s.intOrSkip()
            case "prompt": prompt = try s.text()
            case "messages": messages = try s.messages()
            default: try s.skipValue()
            }
        }
        try end()
        h.maxTokens = maxCompletionTokens ?? maxTokens
        h.promptText = prompt ?? messages ?? ""
        return (h, true)
    }

    // MARK: Values routing reads

    /// Prompt text: a string, or the concatenation of an array's parts.
    private mutating func text() throws -> String {
        skipSpace()
        switch peek {
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "["):
            var out = ""
            try array { s in
                s.skipSpace()
                switch s.peek {
                case UInt8(ascii: "\""): out += try s.string()
                case UInt8(ascii: "["): out += try s.text()
                case UInt8(ascii: "{"):
                    try s.object { key, s in
                        if key == "text", let t = try s.stringOrSkip() { out += t } else { try s.skipValue() }
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    out += try s.numberText() + " "
                default: try s.skipValue()
                }
            }
            return out
        default:
            try skipValue()
            return ""
        }
    }

    /// Chat messages as "role\ncontent\n" lines; nil when `messages` is not an array.
    private mutating func messages() throws -> String? {
        skipSpace()
        guard peek == UInt8(ascii: "[") else {
            try skipValue()
            return nil
        }
        var out = ""
        var allObjects = true
        try array { s in
            s.skipSpace()
            guard s.peek == UInt8(ascii: "{") else {
                allObjects = false
                try s.skipValue()
                return
            }
            var role = "", content = ""
            try s.object { key, s in
                switch key {
                case "role": role = try s.stringOrSkip() ?? ""
                case "content": content = try s.text()
                default: try s.skipValue()
                }
            }
            out += role
            out += "\n"
            out += content
            out += "\n"
        }
        // (An array holding anything but objects gave no prompt before either.)
        return allObjects ? out : nil
    }

    private mutating func stringOrSkip() throws -> String? {
        skipSpace()
        if peek == UInt8(ascii: "\"") { return try string() }
        try skipValue()
        return nil
    }

    private mutating func boolOrSkip() throws -> Bool? {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        try skipValue()
        return nil
    }

    /// An integer that fits in Int (no fraction or exponent); nil for any other value.
    private mutating func intOrSkip() throws -> Int? {
        skipSpace()
        guard peek == UInt8(ascii: "-") || (peek >= 48 && peek <= 57) else {
            try skipValue()
            return nil
        }
        let t = try numberText()
        return Int(t)
    }

    // MARK: Structure

    /// Calls `body` for each member with its key (decoded), positioned at the value.
    private mutating func object(_ body: (String, inout HintScanner) throws -> Void) throws {
        try elements(closedBy: UInt8(ascii: "}")) { s in
            guard s.peek == UInt8(ascii: "\"") else { throw Invalid() }
            let key = try s.string()
            s.skipSpace()
            guard s.peek == UInt8(ascii: ":") else { throw Invalid() }
            s.i += 1
            try body(key, &s)
        }
    }

    /// Calls `body` positioned at each element.
    private mutating func array(_ body: (inout HintScanner) throws -> Void) throws {
        try elements(closedBy: UInt8(ascii: "]"), body)
    }

    /// The comma-separated elements between an opening bracket (at `i`) and `close`; `body` is
    /// called at each one, past its leading whitespace.
    private mutating func elements(closedBy close: UInt8, _ body: (inout HintScanner) throws -> Void) throws {
        try enter()
        i += 1  // { or [
        skipSpace()
        if peek != close {
            while true {
                skipSpace()
                try body(&self)
                skipSpace()
                guard peek == UInt8(ascii: ",") else { break }
                i += 1
            }
        }
        guard peek == close else { throw Invalid() }
        i += 1
        depth -= 1
    }

    private mutating func enter() throws {
        depth += 1
        if depth > 128 { throw Invalid() }
    }

    mutating func skipValue() throws {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"): try object { _, s in try s.skipValue() }
        case UInt8(ascii: "["): try array { s in try s.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): guard literal("true") else { throw Invalid() }
        case UInt8(ascii: "f"): guard literal("false") else { throw Invalid() }
        case UInt8(ascii: "n"): guard literal("null") else { throw Invalid() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try numberRange()
        default: throw Invalid()
        }
    }

    private mutating func end() throws {
        skipSpace()
        guard i == b.count else { throw Invalid() }
    }

    // MARK: Tokens

    /// 0 past the end (never a valid JSON byte where a token is expected).
    private var peek: UInt8 { i < b.count ? b[i] : 0 }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 10 || b[i] == 13 || b[i] == 9 { i += 1 }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    private mutating func numberRange() throws -> Range<Int> {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        guard peek >= 48 && peek <= 57 else { throw Invalid() }
        if peek == 48 { i += 1 } else { while peek >= 48 && peek <= 57 { i += 1 } }
        if peek == UInt8(ascii: ".") {
            i += 1
            guard peek >= 48 && peek <= 57 else { throw Invalid() }
            while peek >= 48 && peek <= 57 { i += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard peek >= 48 && peek <= 57 else { throw Invalid() }
            while peek >= 48 && peek <= 57 { i += 1 }
        }
        return start..<i
    }

    private mutating func numberText() throws -> String {
        let r = try numberRange()
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self)
    }

    /// Skips a string, checking its escapes, control characters and UTF-8.
    private mutating func skipString() throws {
        _ = try stringBody(decode: false)
    }

    private mutating func string() throws -> String {
        try stringBody(decode: true)
    }

    private mutating func stringBody(decode: Bool) throws -> String {
        i += 1  // "
        let start = i
        var escaped = false
        while true {
            guard i < b.count else { throw Invalid() }
            let c = b[i]
            if c == UInt8(ascii: "\"") { break }
            if c < 32 { throw Invalid() }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard i < b.count else { throw Invalid() }
                switch b[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 4 < b.count, (1...4).allSatisfy({ Self.hex(b[i + $0]) != nil }) else { throw Invalid() }
                    i += 5
                default: throw Invalid()
                }
                continue
            }
            i += 1
        }
        let raw = UnsafeRawBufferPointer(rebasing: b[start..<i])
        i += 1  // "
        guard let plain = String(validating: raw, as: UTF8.self) else { throw Invalid() }
        guard decode, escaped else { return decode ? plain : "" }
        return Self.unescape(raw)
    }

    private static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: UInt32(c - 48)
        case 97...102: UInt32(c - 87)
        case 65...70: UInt32(c - 55)
        default: nil
        }
    }

    /// Decodes the escapes of a string already checked (lone surrogates become U+FFFD).
    private static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var k = 0
        func unit(at p: Int) -> UInt32 { (1...4).reduce(UInt32(0)) { $0 << 4 | hex(raw[p + $1])! } }
        while k < raw.count {
            let c = raw[k]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                k += 1
                continue
            }
            let e = raw[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = unit(at: k - 1)
                k += 4
                if scalar >= 0xD800 && scalar < 0xDC00, k + 5 < raw.count, raw[k] == UInt8(ascii: "\\"), raw[k + 1] == UInt8(ascii: "u") {
                    let low = unit(at: k + 1)
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        k += 6
                    }
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
