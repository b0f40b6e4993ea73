import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import OpenAIAPI
import ServerSupport

/// The proxy on a client connection's channel, between Hummingbird's connection-state handler and
/// its request handling: `POST /v1/chat/completions` and `/v1/completions` are answered here, on the
/// event loop, without a task or thread hop per request; every other request goes on to the
/// Hummingbird router. Requests are answered in order: a request that arrives while another one's
/// answer is still being written waits (and reading pauses) until that answer has ended.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    static let proxiedPaths: Set<String> = ["/v1/chat/completions", "/v1/completions"]

    private enum State {
        case idle
        /// Passing a request for the router through, up to its end.
        case forwarding
        case collecting(head: HTTPRequest, path: String, body: ByteBuffer?)
        /// An oversized body, already answered with 413; the connection closes.
        case discarding
        case proxying(ProxyExchange)
        case closed
    }

    private let core: GatewayCore
    private let pools: UpstreamPools
    private let sessionHeader: HTTPField.Name?
    private var pool: UpstreamPool?
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Requests passed to the router whose answers have not ended yet.
    private var routerAnswersPending = 0
    /// Parts that arrived while an earlier request was still being answered.
    private var queued = CircularBuffer<HTTPRequestPart>()
    private var readHeld = false
    /// The client asked to close the connection after this answer (`Connection: close`).
    private var closeAfterAnswer = false

    init(core: GatewayCore, pools: UpstreamPools) {
        self.core = core
        self.pools = pools
        sessionHeader = HTTPField.Name(core.configuration.routing.sessionHeader)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = pools.pool(for: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if queued.isEmpty && accept(part) { return }
        queued.append(part)
    }

    /// Handles one part now, or returns false when it must wait for an earlier answer.
    private func accept(_ part: HTTPRequestPart) -> Bool {
        switch (part, state) {
        case (.head(let request), .idle):
            let path = request.path.map { String($0.prefix { $0 != "?" }) } ?? "/"
            if request.method == .post && Self.proxiedPaths.contains(path) {
                guard routerAnswersPending == 0 else { return false }
                if request.headerFields[.expect]?.lowercased() == "100-continue" {
                    context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
                }
                closeAfterAnswer = request.headerFields[.connection]?.lowercased() == "close"
                state = .collecting(head: request, path: path, body: nil)
            } else {
                routerAnswersPending += 1
                state = .forwarding
                context?.fireChannelRead(wrapInboundOut(part))
            }
            return true
        case (.head, _):
            return false
        case (.body, .forwarding):
            context?.fireChannelRead(wrapInboundOut(part))
        case (.end, .forwarding):
            state = .idle
            context?.fireChannelRead(wrapInboundOut(part))
        case (.body(let chunk), .collecting(let head, let path, var body)):
            state = .idle  // drops the state's reference, so appending does not copy the buffer
            if body == nil { body = chunk } else { body!.writeImmutableBuffer(chunk) }
            let limit = core.configuration.limits.maxBodyBytes
            if body!.readableBytes > limit {
                state = .discarding
                GatewayMetrics.request(route: path, status: 413, policy: "none")
                respond(.tooLarge(limit: limit), close: true)
            } else {
                state = .collecting(head: head, path: path, body: body)
            }
        case (.end, .collecting(let head, let path, let body)):
            startExchange(head, path: path, body: body ?? ByteBuffer())
        case (_, .discarding), (_, .closed):
            break
        case (.body, _), (.end, _):
            return false
        }
        return true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if queued.isEmpty { context.read() } else { readHeld = true }
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state { exchange.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    private func abandon() {
        if case .proxying(let exchange) = state { exchange.cancel() }
        state = .closed
        queued.removeAll()
    }

    // MARK: Outbound (the router's answers)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data) {
            routerAnswersPending -= 1
            drainQueue()
        }
    }

    /// Handles the parts that waited, in order, until one has to wait again; then reads resume.
    private func drainQueue() {
        guard !queued.isEmpty else { return }
        while let part = queued.popFirst() {
            // Taken off first: handling it may end an answer and drain the queue again.
            if !accept(part) {
                queued.prepend(part)
                break
            }
        }
        // The router's side delivers what it was given at the end of a read.
        context?.fireChannelReadComplete()
        if queued.isEmpty && readHeld {
            readHeld = false
            context?.read()
        }
    }

    // MARK: Proxying

    private func startExchange(_ request: HTTPRequest, path: String, body: ByteBuffer) {
        guard let context, let pool else { return }
        let admission = ProxyAdmission(core: core)
        let key: RequestRouter.Key
        do {
            let identity = try admission.authenticate(request.headerFields[.authorization])
            // The body is parsed only when routing or limits need the prompt (prefix affinity, token
            // limits); otherwise it goes through untouched and the engine validates it.
            let needsPrompt = core.policy(for: core.level) == .prefixAffinity || core.limiter.tokensPerMinute > 0
            let hints = needsPrompt ? try RoutingHints.parse(Data(body.readableBytesView)) : RoutingHints()
            try admission.charge(identity, tokens: hints.estimatedTokens)
            let routing = core.configuration.routing
            key = RequestRouter.Key(prefixHashes: hints.prefixHashes(blockChars: routing.prefixBlockChars, maxBlocks: routing.prefixBlocks),
                                    session: sessionHeader.flatMap { request.headerFields[$0] })
        } catch {
            let e = error as? OpenAIError ?? .invalidRequest("\(error)")
            GatewayMetrics.request(route: path, status: e.status, policy: "none")
            state = .idle
            respond(e)
            return
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        for (name, field) in ProxyHandler.forwardedHeaders {
            if let v = request.headerFields[field] { head.headers.add(name: name, value: v) }
        }
        let exchange = ProxyExchange(core: core, pool: pool, client: self, route: path, head: head, body: body, key: key)
        state = .proxying(exchange)
        if let level = admission.admitNow() {
            exchange.start(level: level)
            return
        }
        // Waiting (admission queue, or no replica ready yet) is the one path through Swift concurrency.
        let bound = NIOLoopBound(exchange, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        exchange.waitTask = Task {
            do {
                let level = try await admission.admit()
                loop.execute { bound.value.start(level: level) }
            } catch let e as OpenAIError {
                loop.execute { bound.value.reject(e) }
            } catch {
                // Cancelled: the client is gone.
            }
        }
    }

    /// Headers passed on to the replica besides the body's content type.
    static let forwardedHeaders: [(String, HTTPField.Name)] = ["accept", "x-request-id", "traceparent", "tracestate"]
        .map { ($0, HTTPField.Name($0)!) }

    /// The exchange answered; the next request may go.
    func exchangeDone() {
        guard case .proxying = state else { return }
        state = .idle
        drainQueue()
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// A whole answer with its length.
    func respond(status: Int, headers: HTTPFields, body: ByteBuffer, close: Bool = false) {
        guard let context else { return }
        var fields = headers
        fields[.contentLength] = String(body.readableBytes)
        if close || closeAfterAnswer { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        writeEnd(context, close: close)
    }

    /// Ends the answer; closes the connection after it when asked to.
    private func writeEnd(_ context: ChannelHandlerContext, close: Bool = false) {
        guard close || closeAfterAnswer else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let closing = context.eventLoop.makePromise(of: Void.self)
        closing.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: closing)
    }

    /// An OpenAI-style error answer (with Retry-After on 429 and 503).
    func respond(_ error: OpenAIError, close: Bool = false) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let after = error.retryAfter {
            headers[.retryAfter] = String(after)
        } else if error.status == 429 || error.status == 503 {
            headers[.retryAfter] = "1"
        }
        let body = (try? JSONBody.encoder.encode(error)) ?? Data("{}".utf8)
        respond(status: error.status, headers: headers, body: ByteBuffer(bytes: body), close: close)
    }

    func startStream(headers: HTTPFields) {
        var fields = headers
        if closeAfterAnswer { fields[.connection] = "close" }
        context?.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
    }

    func streamChunk(_ chunk: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(chunk)), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func endStream() {
        if let context { writeEnd(context) }
    }
}
