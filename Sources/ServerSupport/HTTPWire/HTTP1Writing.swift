import NIOCore
import NIOHTTP1

/// Writing HTTP/1.1 heads and chunks straight into a buffer, one header at a time.
extension ByteBuffer {
    /// "HTTP/1.x CODE REASON\r\n".
    public mutating func writeStatusLine(minorVersion: Int, status: Int) {
        writeStaticString(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        switch status {
        case 200: writeStaticString("200 OK\r\n")
        case 100: writeStaticString("100 Continue\r\n")
        default:
            writeString(String(status))
            writeStaticString(" ")
            writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
            writeStaticString("\r\n")
        }
    }

    /// "name: value\r\n".
    public mutating func writeHeader(_ name: StaticString, _ value: String) {
        writeStaticString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }

    /// "name: value\r\n" for a number.
    public mutating func writeHeader(_ name: StaticString, _ value: Int) {
        writeStaticString(name)
        writeStaticString(": ")
        writeString(String(value))  // a small string: no allocation
        writeStaticString("\r\n")
    }

    /// One chunk of a chunked body: size in hex, CRLF, the payload, CRLF.
    public mutating func writeChunk(_ payload: ByteBuffer) {
        guard payload.readableBytes > 0 else { return }
        writeHexLength(payload.readableBytes)
        writeImmutableBuffer(payload)
        writeStaticString("\r\n")
    }

    /// The hex size line that starts a chunk ("1a\r\n").
    public mutating func writeHexLength(_ length: Int) {
        writeString(String(length, radix: 16))
        writeStaticString("\r\n")
    }
}
