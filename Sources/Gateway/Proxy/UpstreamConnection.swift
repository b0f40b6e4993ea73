import NIOCore
import ServerSupport

/// What a proxied request hears from the upstream connection carrying it. Called on the
/// connection's event loop, which is also the client connection's loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamHead(_ head: HTTP1Head)
    /// A piece of the response body (chunked framing already removed).
    func upstreamBody(_ chunk: ByteBuffer)
    /// The end of one socket read: a good moment to flush what was forwarded.
    func upstreamReadComplete()
    func upstreamEnd()
    func upstreamFailed(_ error: any Error)
}

/// The connection closed before the response ended.
struct UpstreamClosedError: Error, CustomStringConvertible {
    var description: String { "the replica closed the connection before the response ended" }
}

/// The replica's bytes were not a well-formed HTTP/1.1 response.
struct UpstreamProtocolError: Error, CustomStringConvertible {
    let detail: String
    var description: String { "malformed response from the replica: \(detail)" }
}

/// One keep-alive HTTP/1.1 connection to a replica, speaking raw HTTP/1.1 (the only handler of its
/// NIO channel): requests go out as one prepared write, responses are framed by `HTTP1Parser` and
/// `HTTP1BodyFramer`. It carries one request at a time; between requests it waits in its event
/// loop's `UpstreamPool`.
final class UpstreamConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let endpoint: Endpoint
    private var context: ChannelHandlerContext?
    private var delegate: (any UpstreamResponseDelegate)?
    private var inbound: ByteBuffer?
    /// The current response's body framing, once its head has arrived.
    private var framer: HTTP1BodyFramer?
    /// False once the replica asked to close, or the channel closed.
    private(set) var reusable = true
    /// Whether any byte of the current response arrived (a reused connection that fails before its
    /// first byte was most likely closed by the replica while idle).
    private(set) var responseStarted = false
    var idleSince = NIODeadline.now()
    /// The pool holding this connection while it is idle; told when the connection closes, so a
    /// replica that went away leaves no dead connections behind.
    weak var idleIn: UpstreamPool?

    init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    var isOpen: Bool { reusable && (context?.channel.isActive ?? false) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes one whole request (head and body); the response goes to `delegate`.
    func send(_ request: ByteBuffer, to delegate: any UpstreamResponseDelegate) {
        guard let context, context.channel.isActive else {
            reusable = false
            delegate.upstreamFailed(UpstreamClosedError())
            return
        }
        self.delegate = delegate
        responseStarted = false
        framer = nil
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    /// Stops or restarts reading from the replica (backpressure from a slow client).
    func setReading(_ on: Bool) {
        try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
        if on { context?.read() }
    }

    /// Drops the connection (the request was abandoned, or the response broke).
    func close() {
        reusable = false
        delegate = nil
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard delegate != nil else {
            // Bytes nobody asked for: the connection's framing can no longer be trusted.
            close()
            return
        }
        responseStarted = true
        if inbound == nil || inbound!.readableBytes == 0 { inbound = bytes } else { inbound!.writeImmutableBuffer(bytes) }
        do {
            try deliver()
        } catch {
            reusable = false
            context.close(promise: nil)
            fail(UpstreamProtocolError(detail: "\(error)"))
        }
    }

    /// Hands the delegate what has arrived: the head, body pieces, the end.
    private func deliver() throws {
        while let delegate {
            if framer == nil {
                guard let head = try HTTP1Parser.response(&inbound!, maxBytes: HTTP1Front.maxHeadBytes) else { return }
                if head.status < 200 { continue }  // 1xx: the real head follows
                if !head.keepAlive { reusable = false }
                framer = HTTP1BodyFramer(response: head)
                delegate.upstreamHead(head)
                continue
            }
            while let piece = try framer!.next(&inbound!) {
                delegate.upstreamBody(piece)
                guard self.delegate === delegate else { return }  // the request was dropped meanwhile
            }
            guard framer!.isComplete else { return }
            framer = nil
            if inbound!.readableBytes > 0 { reusable = false }  // more than one response's bytes
            inbound = nil
            self.delegate = nil
            delegate.upstreamEnd()
            return
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reusable = false
        idleIn?.discard(self)
        if let delegate, framer?.endsAtClose == true {
            // A body delimited by the close has ended.
            self.delegate = nil
            framer = nil
            delegate.upstreamEnd()
            return
        }
        fail(UpstreamClosedError())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        context.close(promise: nil)
        fail(error)
    }

    private func fail(_ error: any Error) {
        let d = delegate
        delegate = nil
        d?.upstreamFailed(error)
    }
}
