import NIOCore

/// A parsed HTTP/1.x request or response head, read straight from the connection's bytes: the
/// head's bytes plus offsets of the start line's parts and of each header field, so nothing is
/// copied or decoded that the caller does not ask for. What framing needs (Content-Length,
/// chunked transfer coding, keep-alive, `Expect: 100-continue`) is decided while parsing.
public struct HTTP1Head: Sendable {
    /// The head's bytes, start line to blank line.
    public let bytes: ByteBuffer
    /// Method and target (requests), or status code (responses), as offsets into `bytes`.
    let first: Range<Int>
    let second: Range<Int>
    /// The `x` in `HTTP/1.x`.
    public let minorVersion: Int
    let fields: [(name: Range<Int>, value: Range<Int>)]
    /// The body's length from Content-Length; nil when absent.
    public let contentLength: Int?
    /// The body uses chunked transfer coding.
    public let chunked: Bool
    /// The connection stays open after this message (HTTP/1.1 unless `Connection: close`; HTTP/1.0
    /// only with `Connection: keep-alive`).
    public let keepAlive: Bool
    /// The client waits for `100 Continue` before sending the body.
    public let expectsContinue: Bool

    /// The status code of a response head.
    public let status: Int

    /// The request's method, e.g. "POST".
    public var method: String { string(first) }
    /// The request's target, e.g. "/v1/models?x=1".
    public var target: String { string(second) }

    /// Whether the method is `m` (exact, methods are case-sensitive).
    public func methodIs(_ m: StaticString) -> Bool { equals(first, m) }

    /// Whether the target's path (up to any `?`) is `path`.
    public func pathIs(_ path: StaticString) -> Bool {
        let q = bytes.withUnsafeReadableBytes { b in b[second].firstIndex(of: UInt8(ascii: "?")) } ?? second.upperBound
        return equals(second.lowerBound..<q, path)
    }

    /// The first value of a header (name matched case-insensitively), or nil.
    public func value(_ name: String) -> String? {
        for f in fields where equals(f.name, name) { return string(f.value) }
        return nil
    }

    /// The first value of header `name` as raw bytes appended to `out` ("name: value\r\n"), when present.
    @discardableResult
    public func copyField(_ name: String, into out: inout ByteBuffer) -> Bool {
        for f in fields where equals(f.name, name) {
            var slice = bytes.getSlice(at: bytes.readerIndex + f.name.lowerBound, length: f.name.count)!
            out.writeBuffer(&slice)
            out.writeStaticString(": ")
            slice = bytes.getSlice(at: bytes.readerIndex + f.value.lowerBound, length: f.value.count)!
            out.writeBuffer(&slice)
            out.writeStaticString("\r\n")
            return true
        }
        return false
    }

    func string(_ r: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + r.lowerBound, length: r.count) ?? ""
    }

    /// Exact comparison (methods and paths are case-sensitive).
    private func equals(_ r: Range<Int>, _ s: StaticString) -> Bool {
        guard r.count == s.utf8CodeUnitCount else { return false }
        return bytes.withUnsafeReadableBytes { b in
            UnsafeRawBufferPointer(rebasing: b[r]).elementsEqual(UnsafeRawBufferPointer(start: s.utf8Start, count: r.count))
        }
    }

    /// Case-insensitive comparison (header names).
    private func equals(_ r: Range<Int>, _ s: String) -> Bool {
        var s = s
        return s.withUTF8 { p in
            guard r.count == p.count else { return false }
            return bytes.withUnsafeReadableBytes { b in
                for i in 0..<r.count where HTTP1Parser.lower(b[r.lowerBound + i]) != HTTP1Parser.lower(p[i]) { return false }
                return true
            }
        }
    }
}

/// Why a head could not be parsed; `status` is what a server answers (400, 431, 501, 505).
public struct HTTP1ParseError: Error, CustomStringConvertible {
    public let status: Int
    public let description: String
    init(_ status: Int, _ description: String) {
        self.status = status
        self.description = description
    }

    init(_ description: String) {
        self.init(400, description)
    }
}

/// Reads HTTP/1.x heads from the front of a buffer (RFC 9112), strictly: no obsolete line folding,
/// no whitespace before a header's colon, one consistent Content-Length, chunked as the final
/// transfer coding, and never both (request smuggling).
public enum HTTP1Parser {
    /// The head at the front of `buffer`, consumed from it; nil while it is incomplete. Throws when
    /// it is malformed, or still incomplete past `maxBytes` (431).
    public static func request(_ buffer: inout ByteBuffer, maxBytes: Int) throws -> HTTP1Head? {
        try parse(&buffer, maxBytes: maxBytes, response: false)
    }

    /// A response head at the front of `buffer` (see `request`).
    public static func response(_ buffer: inout ByteBuffer, maxBytes: Int) throws -> HTTP1Head? {
        try parse(&buffer, maxBytes: maxBytes, response: true)
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c &- 0x41 < 26 ? c | 0x20 : c }

    private static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    private static func parse(_ buffer: inout ByteBuffer, maxBytes: Int, response: Bool) throws -> HTTP1Head? {
        // Empty lines before a request line are ignored (RFC 9112 section 2.2).
        if !response {
            while let c = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), c == 13 || c == 10 { buffer.moveReaderIndex(forwardBy: 1) }
        }
        guard let length = headLength(buffer) else {
            if buffer.readableBytes > maxBytes { throw HTTP1ParseError(431, "the request head is larger than \(maxBytes) bytes") }
            return nil
        }
        if length > maxBytes { throw HTTP1ParseError(431, "the request head is larger than \(maxBytes) bytes") }
        let bytes = buffer.readSlice(length: length)!
        return try bytes.withUnsafeReadableBytes { b in try parseHead(b, bytes: bytes, response: response) }
    }

    /// Bytes up to and including the blank line ending the head, or nil when it has not all arrived.
    private static func headLength(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { b -> Int? in
            var i = 0
            while i < b.count {
                guard let nl = b[i...].firstIndex(of: 10) else { return nil }
                // A line feed followed by CRLF or LF ends the head.
                if nl + 1 < b.count && b[nl + 1] == 10 { return nl + 2 }
                if nl + 2 < b.count && b[nl + 1] == 13 && b[nl + 2] == 10 { return nl + 3 }
                if nl + 2 >= b.count { return nil }
                i = nl + 1
            }
            return nil
        }
    }

    private static func parseHead(_ b: UnsafeRawBufferPointer, bytes: ByteBuffer, response: Bool) throws -> HTTP1Head {
        var next = 0
        /// The next line without its line ending (nil at the blank line), refusing NUL and bare CR.
        func nextLine() throws -> Range<Int>? {
            let start = next
            var i = start
            while i < b.count {
                let c = b[i]
                if c <= 13 {
                    if c == 10 { break }
                    if c == 0 || (c == 13 && (i + 1 >= b.count || b[i + 1] != 10)) {
                        throw HTTP1ParseError("a control character in the head")
                    }
                }
                i += 1
            }
            next = i + 1
            let end = i > start && b[i - 1] == 13 ? i - 1 : i
            return end == start ? nil : start..<end
        }
        guard let startLine = try nextLine() else { throw HTTP1ParseError("empty head") }
        var first = 0..<0, second = 0..<0, minor = 1, status = 0
        // Start line: three parts split by single spaces (a response's reason may hold spaces).
        guard let sp1 = b[startLine].firstIndex(of: 32) else { throw HTTP1ParseError("malformed start line") }
        if response {
            guard let v = version(b, startLine.lowerBound..<sp1) else { throw HTTP1ParseError(505, "unsupported HTTP version") }
            minor = v
            let codeEnd = b[(sp1 + 1)..<startLine.upperBound].firstIndex(of: 32) ?? startLine.upperBound
            guard codeEnd - sp1 - 1 == 3 else { throw HTTP1ParseError("malformed status line") }
            for i in (sp1 + 1)..<codeEnd {
                guard b[i] >= 48 && b[i] <= 57 else { throw HTTP1ParseError("malformed status code") }
                status = status * 10 + Int(b[i] - 48)
            }
            first = (sp1 + 1)..<codeEnd
        } else {
            guard let sp2 = b[(sp1 + 1)..<startLine.upperBound].firstIndex(of: 32), sp2 > sp1 + 1 else {
                throw HTTP1ParseError("malformed request line")
            }
            first = startLine.lowerBound..<sp1
            second = (sp1 + 1)..<sp2
            guard !first.isEmpty, first.allSatisfy({ isTokenChar(b[$0]) }) else { throw HTTP1ParseError("malformed method") }
            guard second.allSatisfy({ b[$0] > 32 && b[$0] < 127 }) else { throw HTTP1ParseError("malformed request target") }
            guard let v = version(b, (sp2 + 1)..<startLine.upperBound) else { throw HTTP1ParseError(505, "unsupported HTTP version") }
            minor = v
        }
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        fields.reserveCapacity(12)
        var contentLength: Int?
        var transferEncoding = false, chunked = false, close = false, keepAliveToken = false, expects = false
        while let line = try nextLine() {
            guard b[line.lowerBound] != 32 && b[line.lowerBound] != 9 else { throw HTTP1ParseError("obsolete header line folding") }
            guard let colon = b[line].firstIndex(of: UInt8(ascii: ":")), colon > line.lowerBound else {
                throw HTTP1ParseError("malformed header line")
            }
            let name = line.lowerBound..<colon
            guard name.allSatisfy({ isTokenChar(b[$0]) }) else { throw HTTP1ParseError("malformed header name") }
            var vs = colon + 1, ve = line.upperBound
            while vs < ve && (b[vs] == 32 || b[vs] == 9) { vs += 1 }
            while ve > vs && (b[ve - 1] == 32 || b[ve - 1] == 9) { ve -= 1 }
            let value = vs..<ve
            fields.append((name, value))
            switch name.count {
            case 14 where named(b, name, "content-length"):
                guard !value.isEmpty, value.count <= 18, value.allSatisfy({ b[$0] >= 48 && b[$0] <= 57 }) else {
                    throw HTTP1ParseError("malformed Content-Length")
                }
                let n = value.reduce(0) { $0 * 10 + Int(b[$1] - 48) }
                if let c = contentLength, c != n { throw HTTP1ParseError("conflicting Content-Length headers") }
                contentLength = n
            case 17 where named(b, name, "transfer-encoding"):
                transferEncoding = true
                // The final coding decides; anything but chunked has no length we could frame.
                let last = lastToken(b, value)
                chunked = last.count == 7 && named(b, last, "chunked")
                if !chunked { throw HTTP1ParseError(501, "unsupported transfer coding") }
            case 10 where named(b, name, "connection"):
                forEachToken(b, value) { t in
                    if t.count == 5 && named(b, t, "close") { close = true }
                    if t.count == 10 && named(b, t, "keep-alive") { keepAliveToken = true }
                }
            case 6 where named(b, name, "expect"):
                expects = value.count == 12 && named(b, value, "100-continue")
            default:
                break
            }
        }
        if transferEncoding && contentLength != nil { throw HTTP1ParseError("both Content-Length and Transfer-Encoding") }
        return HTTP1Head(bytes: bytes, first: first, second: second, minorVersion: minor, fields: fields,
                         contentLength: contentLength, chunked: chunked,
                         keepAlive: !close && (minor >= 1 || keepAliveToken), expectsContinue: expects && minor >= 1,
                         status: status)
    }

    private static func version(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int? {
        guard r.count == 8, named(b, r.lowerBound..<(r.lowerBound + 7), "HTTP/1."), b[r.lowerBound + 7] == 48 || b[r.lowerBound + 7] == 49 else {
            return nil
        }
        return Int(b[r.lowerBound + 7] - 48)
    }

    /// Case-insensitive comparison of `b[r]` with a lowercase name.
    private static func named(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ name: StaticString) -> Bool {
        guard r.count == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        for i in 0..<r.count where lower(b[r.lowerBound + i]) != lower(p[i]) { return false }
        return true
    }

    private static func forEachToken(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ body: (Range<Int>) -> Void) {
        var i = r.lowerBound
        while i < r.upperBound {
            while i < r.upperBound && (b[i] == 32 || b[i] == 9 || b[i] == 44) { i += 1 }
            var j = i
            while j < r.upperBound && b[j] != 44 { j += 1 }
            var e = j
            while e > i && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
            if e > i { body(i..<e) }
            i = j
        }
    }

    private static func lastToken(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Range<Int> {
        var last = r.upperBound..<r.upperBound
        forEachToken(b, r) { last = $0 }
        return last
    }
}
