/// Tokenizer built from a GGUF file's `tokenizer.ggml.*` metadata: byte-level BPE over merges
/// (`gpt2`: GPT-2, Llama 3, SmolLM, Qwen) or SentencePiece-style BPE over scores (`llama`: Gemma,
/// Llama 2, Mistral).
public final class Tokenizer: Sendable {
    /// How plain text (between special tokens) becomes tokens.
    enum Model: Sendable {
        case byteLevelBPE
        case sentencePiece(SentencePieceModel)
    }

    /// Token strings as the vocabulary writes them (byte-level alphabet or "▁" for spaces).
    public let tokens: [String]
    /// ggml token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public let tokenTypes: [Int]
    public let preTokenizer: PreTokenizer
    public let bosID: Int?
    public let eosID: Int?
    public let addBOS: Bool
    /// Tokens that end generation (EOS, end-of-turn and similar control tokens).
    public let endOfGenerationIDs: Set<Int>

    let model: Model
    let ids: [String: Int]
    let mergeRanks: [String: Int]
    /// Special tokens matched inside text, by first character, longest first.
    let specials: [Unicode.Scalar: [(text: [Unicode.Scalar], id: Int)]]
    /// Raw bytes of every token, for decoding.
    let tokenBytes: [[UInt8]]

    public var vocabularySize: Int { tokens.count }

    /// A byte-level BPE tokenizer (GGUF `gpt2`).
    public convenience init(tokens: [String], tokenTypes: [Int], merges: [String], preTokenizer: PreTokenizer,
                            bosID: Int?, eosID: Int?, addBOS: Bool, extraEndIDs: [Int] = []) {
        self.init(tokens: tokens, tokenTypes: tokenTypes, merges: merges, preTokenizer: preTokenizer, scores: nil,
                  bosID: bosID, eosID: eosID, unknownID: nil, addBOS: addBOS, addSpacePrefix: false, extraEndIDs: extraEndIDs)
    }

    /// A SentencePiece-style tokenizer over token scores (GGUF `llama`).
    public convenience init(tokens: [String], tokenTypes: [Int], scores: [Float], bosID: Int?, eosID: Int?,
                            unknownID: Int?, addBOS: Bool, addSpacePrefix: Bool, extraEndIDs: [Int] = []) {
        self.init(tokens: tokens, tokenTypes: tokenTypes, merges: [], preTokenizer: .gpt2, scores: scores,
                  bosID: bosID, eosID: eosID, unknownID: unknownID, addBOS: addBOS, addSpacePrefix: addSpacePrefix,
                  extraEndIDs: extraEndIDs)
    }

    private init(tokens: [String], tokenTypes: [Int], merges: [String], preTokenizer: PreTokenizer, scores: [Float]?,
                 bosID: Int?, eosID: Int?, unknownID: Int?, addBOS: Bool, addSpacePrefix: Bool, extraEndIDs: [Int]) {
        self.tokens = tokens
        self.tokenTypes = tokenTypes.count == tokens.count ? tokenTypes : Array(repeating: 1, count: tokens.count)
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        if let scores {
            model = .sentencePiece(SentencePieceModel(tokens: tokens, scores: scores, ids: ids, unknownID: unknownID,
                                                      addSpacePrefix: addSpacePrefix))
        } else {
            model = .byteLevelBPE
        }
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        mergeRanks = ranks
        var specials: [Unicode.Scalar: [([Unicode.Scalar], Int)]] = [:]
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let type = self.tokenTypes[i]
            if type == 3 || type == 4 {
                let text = Array(t.unicodeScalars)
                if let first = text.first { specials[first, default: []].append((text, i)) }
                bytes.append(Array(t.utf8))
            } else if scores != nil {
                bytes.append(Self.sentencePieceBytes(t, isByte: type == 6))
            } else {
                var b: [UInt8] = []
                ByteLevel.decode(t, into: &b)
                bytes.append(b)
            }
        }
        self.specials = specials.mapValues { $0.sorted { $0.0.count > $1.0.count } }
        tokenBytes = bytes
        var ends = Set(extraEndIDs)
        if let eosID { ends.insert(eosID) }
        for (i, t) in tokens.enumerated() where self.tokenTypes[i] == 3 {
            if ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>"].contains(t) {
                ends.insert(i)
            }
        }
        endOfGenerationIDs = ends
    }

    /// Builds the tokenizer from GGUF metadata: the `gpt2` (byte-level BPE) and `llama`
    /// (SentencePiece) models are supported.
    public convenience init(gguf: GGUFFile) throws(ModelError) {
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" || model == "llama" else {
            throw .badMetadata(key: "tokenizer.ggml.model",
                               reason: "tokenizer '\(model)' is not supported (supported: gpt2 byte-level BPE, llama SentencePiece)")
        }
        let tokens = try gguf.strings("tokenizer.ggml.tokens")
        let types = gguf.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
        if model == "llama" {
            try self.init(sentencePiece: gguf, tokens: tokens, types: types)
            return
        }
        let merges = try gguf.strings("tokenizer.ggml.merges")
        let preName = gguf.metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard let pre = PreTokenizer(ggmlName: preName) else {
            throw .badMetadata(key: "tokenizer.ggml.pre", reason: "pre-tokenizer '\(preName)' is not supported (supported: gpt2, smollm)")
        }
        let bos = gguf.metadata["tokenizer.ggml.bos_token_id"]?.int
        let eos = gguf.metadata["tokenizer.ggml.eos_token_id"]?.int
        let eot = gguf.metadata["tokenizer.ggml.eot_token_id"]?.int
        let addBOS = gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false
        for (key, id) in [("bos", bos), ("eos", eos), ("eot", eot)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw .badMetadata(key: "tokenizer.ggml.\(key)_token_id", reason: "id \(id) outside the vocabulary")
            }
        }
        self.init(tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: pre, bosID: bos, eosID: eos,
                  addBOS: addBOS, extraEndIDs: eot.map { [$0] } ?? [])
    }

    private convenience init(sentencePiece gguf: GGUFFile, tokens: [String], types: [Int]) throws(ModelError) {
        guard let scoreValues = gguf.metadata["tokenizer.ggml.scores"]?.array else {
            throw .badMetadata(key: "tokenizer.ggml.scores", reason: "missing (a SentencePiece vocabulary needs token scores)")
        }
        let scores = scoreValues.map { Float($0.double ?? 0) }
        guard scores.count == tokens.count else {
            throw .badMetadata(key: "tokenizer.ggml.scores", reason: "\(scores.count) scores for \(tokens.count) tokens")
        }
        let ids = try Self.specialIDs(gguf, count: tokens.count)
        self.init(tokens: tokens, tokenTypes: types, scores: scores, bosID: ids.bos, eosID: ids.eos, unknownID: ids.unknown,
                  addBOS: gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? true,
                  addSpacePrefix: gguf.metadata["tokenizer.ggml.add_space_prefix"]?.bool ?? true,
                  extraEndIDs: ids.eot.map { [$0] } ?? [])
    }

    private static func specialIDs(_ gguf: GGUFFile, count: Int) throws(ModelError) -> (bos: Int?, eos: Int?, eot: Int?, unknown: Int?) {
        let m = gguf.metadata
        let found = [("bos", m["tokenizer.ggml.bos_token_id"]?.int), ("eos", m["tokenizer.ggml.eos_token_id"]?.int),
                     ("eot", m["tokenizer.ggml.eot_token_id"]?.int), ("unknown", m["tokenizer.ggml.unknown_token_id"]?.int)]
        for (key, id) in found {
            if let id, !(0..<count).contains(id) {
                throw .badMetadata(key: "tokenizer.ggml.\(key)_token_id", reason: "id \(id) outside the vocabulary")
            }
        }
        return (found[0].1, found[1].1, found[2].1, found[3].1)
    }

    /// Bytes of a SentencePiece token: `<0xXX>` byte tokens are that byte, "▁" is a space.
    static func sentencePieceBytes(_ token: String, isByte: Bool) -> [UInt8] {
        if isByte, token.hasPrefix("<0x"), token.hasSuffix(">"), let b = UInt8(token.dropFirst(3).dropLast(), radix: 16) {
            return [b]
        }
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            if s == "\u{2581}" { out.append(0x20) } else { out += String(s).utf8 }
        }
        return out
    }

    /// Token ids of `text`. With `parseSpecial`, control tokens written in the text (e.g.
    /// `<|im_start|>`) become their ids; otherwise they are tokenized as plain text.
    /// User-defined tokens (e.g. Gemma's runs of newlines) are always matched whole.
    public func encode(_ text: String, addBOS: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addBOS ?? self.addBOS, let bosID { out.append(bosID) }
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0
        var i = 0
        while i < scalars.count {
            if let (len, id) = special(at: i, in: scalars, controls: parseSpecial) {
                if segmentStart < i { encodePlain(scalars[segmentStart..<i], into: &out) }
                out.append(id)
                i += len
                segmentStart = i
            } else {
                i += 1
            }
        }
        if segmentStart < scalars.count { encodePlain(scalars[segmentStart...], into: &out) }
        return out
    }

    /// The raw bytes a token stands for.
    public func bytes(of id: Int) -> [UInt8] {
        guard id >= 0 && id < tokenBytes.count else { return [] }
        return tokenBytes[id]
    }

    /// Whether `id` is a control token (not text a user should see).
    public func isControl(_ id: Int) -> Bool { id >= 0 && id < tokenTypes.count && tokenTypes[id] == 3 }

    /// Text of a token sequence (invalid UTF-8 shown as U+FFFD).
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids where !(skipSpecial && isControl(id)) { bytes.append(contentsOf: self.bytes(of: id)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of a token string, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token] }

    // MARK: internals

    private func special(at i: Int, in scalars: [Unicode.Scalar], controls: Bool) -> (Int, Int)? {
        guard let candidates = specials[scalars[i]] else { return nil }
        for (text, id) in candidates where i + text.count <= scalars.count && (controls || tokenTypes[id] == 4) {
            var match = true
            for k in 1..<text.count where scalars[i + k] != text[k] { match = false; break }
            if match { return (text.count, id) }
        }
        return nil
    }

    private func encodePlain(_ text: ArraySlice<Unicode.Scalar>, into out: inout [Int]) {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: text)
        if case .sentencePiece(let spm) = model {
            spm.encode(Substring(String(s)).unicodeScalars, into: &out)
            return
        }
        for piece in preTokenizer.split(String(s)) {
            var raw = String.UnicodeScalarView()
            raw.append(contentsOf: piece)
            bpe(ByteLevel.encode(String(raw).utf8), into: &out)
        }
    }

    /// Merges the lowest-ranked adjacent pair until none is in the merge table.
    private func bpe(_ word: String, into out: inout [Int]) {
        if let id = ids[word] { out.append(id); return }
        var symbols = word.unicodeScalars.map { String($0) }
        while symbols.count > 1 {
            var best = Int.max, bestIndex = -1
            for k in 0..<symbols.count - 1 {
                if let r = mergeRanks[symbols[k] + " " + symbols[k + 1]], r < best { best = r; bestIndex = k }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] += symbols[bestIndex + 1]
            symbols.remove(at: bestIndex + 1)
        }
        for sym in symbols {
            if let id = ids[sym] {
                out.append(id)
            } else {
                // Not in the vocabulary: fall back to one token per byte where the vocab has them.
                for scalar in sym.unicodeScalars { if let id = ids[String(scalar)] { out.append(id) } }
            }
        }
    }
}
