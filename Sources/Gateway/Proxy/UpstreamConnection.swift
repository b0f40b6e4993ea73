import NIOCore
import NIOHTTP1

/// What a proxied request hears from the upstream connection carrying it. Called on the
/// connection's event loop, which is also the client connection's loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
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

/// One keep-alive HTTP/1.1 connection to a replica (the tail handler of its NIO channel). It carries
/// one request at a time; between requests it waits in its event loop's `UpstreamPool`.
final class UpstreamConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: Endpoint
    private var context: ChannelHandlerContext?
    private var delegate: (any UpstreamResponseDelegate)?
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

    /// Writes one request; the response goes to `delegate`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer, to delegate: any UpstreamResponseDelegate) {
        guard let context, context.channel.isActive else {
            reusable = false
            delegate.upstreamFailed(UpstreamClosedError())
            return
        }
        self.delegate = delegate
        responseStarted = false
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseStarted = true
            if !head.isKeepAlive { reusable = false }
            delegate?.upstreamHead(head)
        case .body(let chunk):
            delegate?.upstreamBody(chunk)
        case .end:
            let d = delegate
            delegate = nil
            d?.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reusable = false
        idleIn?.discard(self)
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
