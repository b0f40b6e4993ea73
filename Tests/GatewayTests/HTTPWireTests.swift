import NIOCore
import ServerSupport
import Testing

/// The raw HTTP/1.1 parser, body framer and writers the gateway's proxy and the stub run on.
struct HTTPWireTests {
    @Test func parsesARequestHeadAndLeavesTheRest() throws {
        var b = ByteBuffer(string: "\r\nPOST /v1/completions?x=1 HTTP/1.1\r\nHost: t\r\nauthorization:  Bearer k \r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n")
        let head = try #require(try HTTP1Parser.request(&b, maxBytes: 1024))
        #expect(head.methodIs("POST") && !head.methodIs("GET") && head.method == "POST")
        #expect(head.pathIs("/v1/completions") && head.target == "/v1/completions?x=1")
        #expect(head.value("Authorization") == "Bearer k")
        #expect(head.contentLength == 2 && !head.chunked && head.keepAlive && head.minorVersion == 1)
        #expect(b.readableBytesView.elementsEqual("{}GET / HTTP/1.1\r\n".utf8))
        var framer = HTTP1BodyFramer(request: head)
        let body = try #require(try framer.next(&b))
        #expect(String(buffer: body) == "{}" && framer.isComplete)
        // The next head has not all arrived.
        #expect(try HTTP1Parser.request(&b, maxBytes: 1024) == nil)
        #expect(b.readableBytes == "GET / HTTP/1.1\r\n".utf8.count)
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        func head(_ s: String) throws -> HTTP1Head {
            var b = ByteBuffer(string: s)
            return try #require(try HTTP1Parser.request(&b, maxBytes: 1024))
        }
        #expect(try !head("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        #expect(try head("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expectsContinue)
        #expect(try head("GET / HTTP/1.1\nHost: lf-only\n\n").value("host") == "lf-only")
    }

    @Test func refusesMalformedAndAmbiguousHeads() {
        let cases: [(String, Int)] = [
            ("GARBAGE\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\n\r\n", 505),
            ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ]
        for (text, status) in cases {
            var b = ByteBuffer(string: text)
            #expect(throws: HTTP1ParseError.self, "\(text)") { _ = try HTTP1Parser.request(&b, maxBytes: 1024) }
            var c = ByteBuffer(string: text)
            do { _ = try HTTP1Parser.request(&c, maxBytes: 1024) } catch { #expect((error as? HTTP1ParseError)?.status == status, "\(text)") }
        }
        var big = ByteBuffer(string: "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000))
        do {
            _ = try HTTP1Parser.request(&big, maxBytes: 1024)
            Issue.record("an oversized head was accepted")
        } catch { #expect((error as? HTTP1ParseError)?.status == 431) }
    }

    @Test func chunkedBodiesDecodeWhateverTheReadBoundaries() throws {
        let wire = "5;name=v\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT"
        let bytes = Array(wire.utf8)
        for split in 1..<bytes.count {
            var framer = HTTP1BodyFramer(request: try chunkedHead())
            var input = ByteBuffer()
            var payload = "", consumed = 0
            for part in [bytes[..<split], bytes[split...]] {
                input.writeBytes(part)
                let before = input.readerIndex
                while let piece = try framer.next(&input) { payload += String(buffer: piece) }
                consumed += input.readerIndex - before
            }
            #expect(payload == "hello, world", "split at \(split)")
            #expect(framer.isComplete)
            #expect(consumed == bytes.count - 4 && String(buffer: input) == "NEXT")
        }
        var bad = HTTP1BodyFramer(request: try chunkedHead())
        var input = ByteBuffer(string: "zz\r\n")
        #expect(throws: HTTP1ParseError.self) { _ = try bad.next(&input) }
    }

    @Test func responseBodiesEndByLengthByChunksOrByTheClose() throws {
        func framer(_ s: String) throws -> HTTP1BodyFramer {
            var b = ByteBuffer(string: s)
            return HTTP1BodyFramer(response: try #require(try HTTP1Parser.response(&b, maxBytes: 1024)))
        }
        #expect(try framer("HTTP/1.1 204 No Content\r\n\r\n").isComplete)
        #expect(try framer("HTTP/1.0 200 OK\r\n\r\n").endsAtClose)
        #expect(try !framer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").endsAtClose)
        var b = ByteBuffer(string: "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nConnection: close\r\n\r\n")
        let head = try #require(try HTTP1Parser.response(&b, maxBytes: 1024))
        #expect(head.status == 503 && head.value("retry-after") == "2" && !head.keepAlive)
    }

    @Test func writesNumbersAndChunks() {
        var b = ByteBuffer()
        b.writeStatusLine(minorVersion: 1, status: 429)
        b.writeHeader("content-length", 1234567)
        b.writeChunk(ByteBuffer(string: String(repeating: "x", count: 26)))
        b.writeHexLength(0)
        #expect(String(buffer: b) == "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 1234567\r\n1a\r\n" + String(repeating: "x", count: 26) + "\r\n0\r\n")
    }

    private func chunkedHead() throws -> HTTP1Head {
        var b = ByteBuffer(string: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        return try #require(try HTTP1Parser.request(&b, maxBytes: 1024))
    }
}
