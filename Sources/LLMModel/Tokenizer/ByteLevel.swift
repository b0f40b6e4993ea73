/// GPT-2's reversible map between bytes and printable Unicode scalars: the vocabulary of byte-level
/// BPE stores tokens in this alphabet (a space is "Ġ", a newline "Ċ").
enum ByteLevel {
    /// Scalar standing for each byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of byteToScalar (nil for scalars outside the alphabet).
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The byte-level spelling of raw bytes.
    static func encode<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Raw bytes of a byte-level string; scalars outside the alphabet are kept as their UTF-8.
    static func decode(_ text: String, into out: inout [UInt8]) {
        for s in text.unicodeScalars {
            if let b = scalarToByte[s.value] {
                out.append(b)
            } else {
                out.append(contentsOf: Array(String(s).utf8))
            }
        }
    }
}
