/// SentencePiece-style BPE over token scores (GGUF `tokenizer.ggml.model = llama`: Llama 1/2,
/// Gemma, Mistral): spaces become "▁", the text starts as single characters, and the adjacent
/// pair whose concatenation is the highest-scoring vocabulary entry is merged until no pair is in
/// the vocabulary; characters left outside the vocabulary fall back to `<0xXX>` byte tokens.
struct SentencePieceModel: Sendable {
    let ids: [String: Int]
    let scores: [Float]
    /// Token id of each byte's `<0xXX>` token, or -1.
    let byteIDs: [Int]
    let unknownID: Int?
    /// Whether a "▁" is put before each text fragment (`tokenizer.ggml.add_space_prefix`; llama.cpp
    /// also adds it after every special token).
    let addSpacePrefix: Bool

    init(tokens: [String], scores: [Float], ids: [String: Int], unknownID: Int?, addSpacePrefix: Bool) {
        self.ids = ids
        self.scores = scores.count == tokens.count ? scores : Array(repeating: 0, count: tokens.count)
        var bytes = Array(repeating: -1, count: 256)
        for b in 0..<256 {
            let hex = String(b, radix: 16, uppercase: true)
            if let id = ids["<0x" + (hex.count == 1 ? "0" : "") + hex + ">"] { bytes[b] = id }
        }
        byteIDs = bytes
        self.unknownID = unknownID
        self.addSpacePrefix = addSpacePrefix
    }

    /// The "▁"-escaped UTF-8 of a fragment.
    static func escape(_ text: Substring.UnicodeScalarView, prefix: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 3)
        let space: [UInt8] = [0xE2, 0x96, 0x81]
        if prefix { out += space }
        for s in text {
            if s == " " { out += space } else { out += String(s).utf8 }
        }
        return out
    }

    private struct Symbol { var start: Int; var length: Int; var prev: Int; var next: Int }
    private struct Bigram { var left: Int; var right: Int; var score: Float; var length: Int }

    /// Appends the token ids of a text fragment (no special tokens inside).
    func encode(_ text: Substring.UnicodeScalarView, into out: inout [Int]) {
        let bytes = Self.escape(text, prefix: addSpacePrefix)
        guard !bytes.isEmpty else { return }
        if let id = lookup(bytes, 0, bytes.count) { out.append(id); return }
        var symbols: [Symbol] = []
        var i = 0
        while i < bytes.count {
            let n = min(Self.utf8Length(bytes[i]), bytes.count - i)
            symbols.append(Symbol(start: i, length: n, prev: symbols.count - 1, next: symbols.count + 1))
            i += n
        }
        symbols[symbols.count - 1].next = -1
        var heap = BigramHeap()
        func consider(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0 else { return }
            let len = symbols[l].length + symbols[r].length
            if let id = lookup(bytes, symbols[l].start, len) {
                heap.push(Bigram(left: l, right: r, score: scores[id], length: len))
            }
        }
        for k in 1..<symbols.count { consider(k - 1, k) }
        while let b = heap.pop() {
            let l = symbols[b.left], r = symbols[b.right]
            // Stale: one side was merged away or grew since this pair was scored.
            if l.length == 0 || r.length == 0 || l.length + r.length != b.length || l.next != b.right { continue }
            symbols[b.left].length += r.length
            symbols[b.left].next = r.next
            symbols[b.right].length = 0
            if r.next >= 0 { symbols[r.next].prev = b.left }
            consider(l.prev, b.left)
            consider(b.left, symbols[b.left].next)
        }
        var k = 0
        while k >= 0 {
            let s = symbols[k]
            if let id = lookup(bytes, s.start, s.length) {
                out.append(id)
            } else {
                for byte in bytes[s.start..<s.start + s.length] {
                    let id = byteIDs[Int(byte)]
                    if id >= 0 { out.append(id) } else if let unknownID { out.append(unknownID) }
                }
            }
            k = s.next
        }
    }

    @inline(__always) private func lookup(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        ids[String(decoding: bytes[start..<start + count], as: UTF8.self)]
    }

    @inline(__always) static func utf8Length(_ lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead & 0xE0 == 0xC0 { return 2 }
        if lead & 0xF0 == 0xE0 { return 3 }
        if lead & 0xF8 == 0xF0 { return 4 }
        return 1
    }

    /// Max-heap of candidate merges: highest score first, then the leftmost pair.
    private struct BigramHeap {
        var items: [Bigram] = []

        @inline(__always) static func before(_ a: Bigram, _ b: Bigram) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }

        mutating func push(_ b: Bigram) {
            items.append(b)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.before(items[i], items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Bigram? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var best = i
                    if l < items.count && Self.before(items[l], items[best]) { best = l }
                    if r < items.count && Self.before(items[r], items[best]) { best = r }
                    if best == i { break }
                    items.swapAt(i, best)
                    i = best
                }
            }
            return top
        }
    }
}
