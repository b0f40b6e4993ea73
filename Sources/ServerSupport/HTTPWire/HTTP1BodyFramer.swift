import NIOCore

/// Finds a message body's bytes in what arrives after its head (RFC 9112 section 6): a
/// Content-Length, chunked transfer coding (decoded; extensions and trailers skipped), or, for a
/// response without either, everything up to the connection's close. It hands out the payload as
/// slices of the input, without copying.
public struct HTTP1BodyFramer: Sendable {
    enum State: Sendable {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    var state: State

    /// The body a request head announces (none without Content-Length or chunked).
    public init(request head: HTTP1Head) {
        state = head.chunked ? .chunkSize : (head.contentLength ?? 0) > 0 ? .length(remaining: head.contentLength!) : .done
    }

    /// The body a response head announces to a POST (1xx, 204 and 304 have none).
    public init(response head: HTTP1Head) {
        if head.status < 200 || head.status == 204 || head.status == 304 {
            state = .done
        } else if head.chunked {
            state = .chunkSize
        } else if let n = head.contentLength {
            state = n > 0 ? .length(remaining: n) : .done
        } else {
            state = .untilClose
        }
    }

    /// The whole body has been read.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// The body ends when the connection closes (its end is the close, not an error).
    public var endsAtClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next piece of payload at the front of `buffer` (consumed with its framing); nil when the
    /// body is complete or more bytes are needed. Throws on malformed chunk framing.
    public mutating func next(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        while true {
            switch state {
            case .done:
                return nil
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return buffer.readSlice(length: buffer.readableBytes)
            case .length(let remaining), .chunkData(let remaining):
                let n = min(remaining, buffer.readableBytes)
                guard n > 0 else { return nil }
                let slice = buffer.readSlice(length: n)!
                if case .length = state {
                    state = remaining == n ? .done : .length(remaining: remaining - n)
                } else {
                    state = remaining == n ? .chunkDataEnd : .chunkData(remaining: remaining - n)
                }
                return slice
            case .chunkDataEnd:
                guard let line = try Self.line(&buffer) else { return nil }
                guard line.readableBytes == 0 else { throw HTTP1ParseError("chunk data longer than its size") }
                state = .chunkSize
            case .chunkSize:
                guard let line = try Self.line(&buffer) else { return nil }
                let size = try line.withUnsafeReadableBytes { b -> Int in
                    var size = 0, digits = 0
                    for c in b {
                        let d: Int
                        switch c {
                        case 48...57: d = Int(c - 48)
                        case 97...102: d = Int(c - 87)
                        case 65...70: d = Int(c - 55)
                        case 59, 32, 9: d = -1  // extensions follow
                        default: throw HTTP1ParseError("malformed chunk size")
                        }
                        if d < 0 { break }
                        digits += 1
                        guard digits <= 15 else { throw HTTP1ParseError("chunk size too large") }
                        size = size << 4 | d
                    }
                    guard digits > 0 else { throw HTTP1ParseError("malformed chunk size") }
                    return size
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .trailers:
                guard let line = try Self.line(&buffer) else { return nil }
                if line.readableBytes == 0 { state = .done }
            }
        }
    }

    /// Skips whatever payload is at the front of `buffer`, returning how many raw bytes (framing
    /// included) belonged to the body.
    public mutating func skip(_ buffer: inout ByteBuffer) throws -> Int {
        let start = buffer.readerIndex
        while try next(&buffer) != nil {}
        return buffer.readerIndex - start
    }

    /// One framing line without its CRLF (or LF), consumed; nil while it is incomplete.
    private static func line(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let nl = buffer.withUnsafeReadableBytes { $0.firstIndex(of: 10) }
        guard let nl else {
            if buffer.readableBytes > 4096 { throw HTTP1ParseError("chunk framing line too long") }
            return nil
        }
        var line = buffer.readSlice(length: nl + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 13 {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        return line
    }
}
