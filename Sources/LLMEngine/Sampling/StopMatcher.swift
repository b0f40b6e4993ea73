import LLMModel

/// Finds OpenAI `stop` strings in generated text as it streams. Text that might be the start of a
/// stop string is held back until it is known not to be one, so a stop string is never streamed.
public struct StopMatcher: Sendable {
    public let stops: [String]
    private var held = ""

    public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Feeds new text; returns the text safe to emit and whether a stop string was hit (the text
    /// before it is included, the stop string and everything after it are dropped).
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        held += text
        let scalars = Array(held.unicodeScalars)
        var earliest: Int?
        for stop in stops {
            let pat = Array(stop.unicodeScalars)
            if let r = scalars.firstRange(of: pat, from: 0), r.lowerBound < (earliest ?? .max) { earliest = r.lowerBound }
        }
        if let cut = earliest {
            held = ""
            return (Self.string(scalars[..<cut]), true)
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            let pat = Array(stop.unicodeScalars)
            var k = min(pat.count - 1, scalars.count)
            while k > keep {
                if Array(scalars[(scalars.count - k)...]) == Array(pat[..<k]) { keep = k; break }
                k -= 1
            }
        }
        let emit = Self.string(scalars[..<(scalars.count - keep)])
        held = Self.string(scalars[(scalars.count - keep)...])
        return (emit, false)
    }

    /// Text still held when generation ends for another reason.
    public mutating func flush() -> String {
        defer { held = "" }
        return held
    }

    static func string(_ s: ArraySlice<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s)
        return String(v)
    }
}
