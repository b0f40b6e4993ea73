/// Splits text into the pieces BPE works on, as named by GGUF's `tokenizer.ggml.pre`.
/// Implemented by hand (no regex engine) over Unicode scalars, matching the regexes that
/// llama.cpp and Hugging Face use for each style.
public enum PreTokenizer: Sendable, Equatable {
    /// GPT-2's split: contractions, ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`, `\s+(?!\S)`, `\s+`.
    case gpt2
    /// SmolLM: every digit is its own piece, then the GPT-2 split on the text between digits.
    case smollm

    /// The style for a `tokenizer.ggml.pre` value; nil when unknown.
    public init?(ggmlName: String) {
        switch ggmlName {
        case "gpt2", "default": self = .gpt2
        case "smollm": self = .smollm
        default: return nil
        }
    }

    /// Pieces of `text` (as scalar arrays).
    public func split(_ text: String) -> [[Unicode.Scalar]] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [[Unicode.Scalar]] = []
        switch self {
        case .gpt2:
            Self.gpt2Split(scalars[...], into: &pieces)
        case .smollm:
            var start = 0
            for i in scalars.indices where CharClass.of(scalars[i]) == .number {
                if start < i { Self.gpt2Split(scalars[start..<i], into: &pieces) }
                pieces.append([scalars[i]])
                start = i + 1
            }
            if start < scalars.count { Self.gpt2Split(scalars[start...], into: &pieces) }
        }
        return pieces
    }

    enum CharClass: Equatable {
        case letter, number, space, other

        static func of(_ s: Unicode.Scalar) -> CharClass {
            let p = s.properties
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                return .letter
            case .decimalNumber, .letterNumber, .otherNumber:
                return .number
            default:
                return p.isWhitespace ? .space : .other
            }
        }
    }

    /// GPT-2 regex split of one segment (ends of the slice are string ends for the look-ahead).
    static func gpt2Split(_ text: ArraySlice<Unicode.Scalar>, into pieces: inout [[Unicode.Scalar]]) {
        var i = text.startIndex
        let end = text.endIndex
        while i < end {
            let c = text[i]
            // Contractions: 's 't 're 've 'm 'll 'd
            if c == "'" && i + 1 < end {
                let n1 = text[i + 1]
                if n1 == "s" || n1 == "t" || n1 == "m" || n1 == "d" {
                    pieces.append(Array(text[i..<i + 2])); i += 2; continue
                }
                if i + 2 < end {
                    let n2 = text[i + 2]
                    if (n1 == "r" && n2 == "e") || (n1 == "v" && n2 == "e") || (n1 == "l" && n2 == "l") {
                        pieces.append(Array(text[i..<i + 3])); i += 3; continue
                    }
                }
            }
            // Optional leading space then a run of one class.
            var j = i
            if c == " " && i + 1 < end && CharClass.of(text[i + 1]) != .space { j = i + 1 }
            let cls = CharClass.of(text[j])
            if cls != .space {
                var k = j + 1
                while k < end && CharClass.of(text[k]) == cls { k += 1 }
                pieces.append(Array(text[i..<k])); i = k; continue
            }
            // Whitespace run: leave its last scalar for the next piece when text follows.
            var k = i + 1
            while k < end && CharClass.of(text[k]) == .space { k += 1 }
            if k < end && k - i > 1 { k -= 1 }
            pieces.append(Array(text[i..<k])); i = k
        }
    }
}
