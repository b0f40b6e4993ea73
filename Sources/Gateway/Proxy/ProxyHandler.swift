import Foundation
import NIOCore
import NIOHTTP1
import OpenAIAPI
import ServerSupport

/// The proxy on a client connection's channel, right after the HTTP/1.1 codec and before
/// Hummingbird's request handling: `POST /v1/chat/completions` and `/v1/completions` are answered
/// here, on the event loop, without a task or thread hop per request; every other request goes on to
/// the Hummingbird router. Requests are answered in order: a request that arrives while another
/// one's answer is still being written waits (and reading pauses) until that answer has ended.
///
/// It also owns the connection's idle timeout (Hummingbird's sees only the router's requests), and
/// holds a graceful-shutdown quiesce back until its own answer in progress has ended.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let proxiedPaths: Set<String> = ["/v1/chat/completions", "/v1/completions"]

    private enum State {
        case idle
        /// Passing a request for the router through, up to its end.
        case forwarding
        case collecting(head: HTTPRequestHead, path: String, body: ByteBuffer?)
        /// An oversized body, already answered with 413; the connection closes.
        case discarding
        case proxying(ProxyExchange)
        case closed
    }

    private let core: GatewayCore
    private let pools: UpstreamPools
    private let sessionHeader: String
    private let idleTimeout: TimeAmount?
    private var pool: UpstreamPool?
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Requests passed to the router whose answers have not ended yet.
    private var routerAnswersPending = 0
    /// Parts that arrived while an earlier request was still being answered.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    /// The client asked to close the connection after this answer (`Connection: close`, HTTP/1.0).
    private var closeAfterAnswer = false
    /// A graceful shutdown arrived while this handler was answering: close after the answer.
    private var quiescing = false
    /// The connection closes once the current answer has been written.
    private var closesAfterAnswer: Bool { closeAfterAnswer || quiescing }
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?

    init(core: GatewayCore, pools: UpstreamPools, idleTimeout: TimeAmount?) {
        self.core = core
        self.pools = pools
        self.idleTimeout = idleTimeout
        sessionHeader = core.configuration.routing.sessionHeader
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = pools.pool(for: context.eventLoop)
        if context.channel.isActive { armIdleTimer(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context)
        context.fireChannelActive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        let part = unwrapInboundIn(data)
        if queued.isEmpty && accept(part) { return }
        queued.append(part)
    }

    /// Handles one part now, or returns false when it must wait for an earlier answer.
    private func accept(_ part: HTTPServerRequestPart) -> Bool {
        switch (part, state) {
        case (.head(let request), .idle):
            let path = request.uri.firstIndex(of: "?").map { String(request.uri[..<$0]) } ?? request.uri
            if request.method == .POST && Self.proxiedPaths.contains(path) {
                guard routerAnswersPending == 0 else { return false }
                closeAfterAnswer = !request.isKeepAlive
                if let expect = request.headers.first(name: "expect"), expect.lowercased() == "100-continue" {
                    context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .continue))), promise: nil)
                }
                state = .collecting(head: request, path: path, body: nil)
            } else {
                routerAnswersPending += 1
                state = .forwarding
                context?.fireChannelRead(wrapInboundOut(part))
            }
            return true
        case (_, .discarding), (_, .closed):
            break
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
                respond(.tooLarge(limit: limit), version: head.version, close: true)
            } else {
                state = .collecting(head: head, path: path, body: body)
            }
        case (.end, .collecting(let head, let path, let body)):
            startExchange(head, path: path, body: body ?? ByteBuffer())
        case (.body, _), (.end, _):
            return false
        }
        return true
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, answering {
            quiescing = true  // closes after this answer; the router's side learns of it then
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Between a proxied request's head and the end of its answer.
    private var answering: Bool {
        switch state {
        case .collecting, .proxying: true
        default: false
        }
    }

    private func abandon() {
        if case .proxying(let exchange) = state { exchange.cancel() }
        state = .closed
        queued.removeAll()
        idleTimer?.cancel()
        idleTimer = nil
    }

    // MARK: Idle timeout

    /// One timer per connection, re-armed only when it fires: closes the connection once it has had
    /// no answer in progress and nothing to read for `idleTimeout` (a stalled upload counts as idle).
    private func armIdleTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline? = nil) {
        guard let idleTimeout, idleTimer == nil else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline ?? lastActivity + idleTimeout) {
            self.idleTimer = nil
            guard let context = self.context else { return }
            let now = NIODeadline.now()
            if self.answerInProgress {
                self.armIdleTimer(context, at: now + idleTimeout)
            } else if now >= self.lastActivity + idleTimeout {
                context.close(promise: nil)
            } else {
                self.armIdleTimer(context)
            }
        }
    }

    /// An answer is being produced (not waiting on the client).
    private var answerInProgress: Bool {
        switch state {
        case .proxying: return true
        case .forwarding: return false
        default: return routerAnswersPending > 0
        }
    }

    // MARK: Outbound (the router's answers)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data) {
            // (An answer to a request the codec could not parse never passed through here.)
            routerAnswersPending = max(0, routerAnswersPending - 1)
            lastActivity = .now()
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

    private func startExchange(_ request: HTTPRequestHead, path: String, body: ByteBuffer) {
        guard let context, let pool else { return }
        let admission = ProxyAdmission(core: core)
        // One pass over the client's headers: what routing needs and what goes on to the replica.
        var upstream = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        upstream.headers.reserveCapacity(8)
        upstream.headers.add(name: "content-type", value: "application/json")
        upstream.headers.add(name: "content-length", value: String(body.readableBytes))
        var authorization: String?
        var session: String?
        for (name, value) in request.headers {
            if name.caseInsensitiveEquals("authorization") {
                authorization = value
            } else if name.caseInsensitiveEquals(sessionHeader) {
                session = value
            }
            for forwarded in Self.forwardedHeaders where name.caseInsensitiveEquals(forwarded) {
                upstream.headers.add(name: forwarded, value: value)
            }
        }
        let key: RequestRouter.Key
        do {
            let identity = try admission.authenticate(authorization)
            // The body is parsed only when routing or limits need the prompt (prefix affinity, token
            // limits); otherwise it goes through untouched and the engine validates it.
            let needsPrompt = core.policy(for: core.level) == .prefixAffinity || core.limiter.tokensPerMinute > 0
            let hints = needsPrompt ? try RoutingHints.parse(Data(body.readableBytesView)) : RoutingHints()
            try admission.charge(identity, tokens: hints.estimatedTokens)
            let routing = core.configuration.routing
            key = RequestRouter.Key(prefixHashes: hints.prefixHashes(blockChars: routing.prefixBlockChars, maxBlocks: routing.prefixBlocks),
                                    session: session)
        } catch {
            let e = error as? OpenAIError ?? .invalidRequest("\(error)")
            GatewayMetrics.request(route: path, status: e.status, policy: "none")
            state = .idle
            respond(e, version: request.version)
            return
        }
        let exchange = ProxyExchange(core: core, pool: pool, client: self, route: path, version: request.version,
                                     head: upstream, body: body, key: key)
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
    static let forwardedHeaders = ["accept", "x-request-id", "traceparent", "tracestate"]

    /// The exchange answered; the next request may go.
    func exchangeDone() {
        guard case .proxying = state else { return }
        state = .idle
        lastActivity = .now()
        drainQueue()
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// A whole answer with its length.
    func respond(status: Int, headers: HTTPHeaders, body: ByteBuffer, version: HTTPVersion, close: Bool = false) {
        guard let context else { return }
        var head = HTTPResponseHead(version: version, status: .init(statusCode: status), headers: headers)
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        if close || closesAfterAnswer { head.headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeEnd(context, close: close)
    }

    /// An OpenAI-style error answer (with Retry-After on 429 and 503).
    func respond(_ error: OpenAIError, version: HTTPVersion, close: Bool = false) {
        var headers = HTTPHeaders([("content-type", "application/json")])
        if let after = JSONBody.retryAfter(error) { headers.add(name: "retry-after", value: String(after)) }
        respond(status: error.status, headers: headers, body: JSONBody.bytes(error), version: version, close: close)
    }

    /// Ends the answer; closes the connection after it when asked to.
    private func writeEnd(_ context: ChannelHandlerContext, close: Bool = false) {
        guard close || closesAfterAnswer else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let closing = context.eventLoop.makePromise(of: Void.self)
        closing.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: closing)
    }

    func startStream(headers: HTTPHeaders, version: HTTPVersion) {
        var head = HTTPResponseHead(version: version, status: .ok, headers: headers)
        if closesAfterAnswer { head.headers.add(name: "connection", value: "close") }
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func streamChunk(_ chunk: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func endStream() {
        if let context { writeEnd(context) }
    }
}

extension String {
    /// ASCII case-insensitive equality (header names).
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            guard x | 0x20 == y | 0x20, (x | 0x20) >= 0x61, (x | 0x20) <= 0x7a else { return false }
        }
        return true
    }
}
