import NIOCore
import NIOHTTP1
import OpenAIAPI

/// Requests answered at the front of a connection in raw HTTP/1.1, one instance per connection
/// (`HTTP1Front` calls it on the connection's event loop).
public protocol HTTP1FastPath: AnyObject {
    /// The largest request body accepted (413 past it).
    var maxBodyBytes: Int { get }
    /// Whether this request is answered here; the others go on to the router.
    func claims(_ head: HTTP1Head) -> Bool
    /// Answers a claimed request through `front`, now or later on the event loop. The answer ends
    /// with `front.respond(...)` or `front.endStream()`.
    func answer(_ head: HTTP1Head, body: ByteBuffer, front: HTTP1Front)
    /// The connection closed while an answer was in progress: stop it.
    func cancel()
    /// The connection can take more bytes again (after `front.isWritable` was false).
    func clientWritable()
    /// A claimed request was refused with 413 before its answer started.
    func refusedTooLarge(_ head: HTTP1Head)
}

/// The first handler of a server connection: it reads raw HTTP/1.1, answers the requests its
/// `HTTP1FastPath` claims right here on the event loop (no HTTP codec, no task or thread hop, one
/// write per answer), and passes every other request's bytes, exactly as they came, on to the
/// HTTP/1.1 codec and Hummingbird's router behind it. Answers go out in request order: a claimed
/// request waits for the router's earlier answers (`HTTP1RouterAnswerWatcher` reports their ends),
/// and the bytes after a claimed request wait until its answer ends.
///
/// It also owns the connection's idle timeout and holds a graceful-shutdown quiesce until its answer
/// in progress has ended.
public final class HTTP1Front: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    private enum State {
        /// Waiting for a request head.
        case head
        /// Reading a claimed request's body.
        case collecting(HTTP1Head, HTTP1BodyFramer, ByteBuffer?)
        /// Passing a router request's body on.
        case passing(HTTP1BodyFramer)
        /// A claimed request's answer is being written.
        case answering
        case closed
    }

    /// Larger request heads are refused with 431.
    public static let maxHeadBytes = 64 << 10
    /// Reading pauses while this much has arrived and waits behind an answer.
    static let maxBuffered = 1 << 20

    private let fastPath: any HTTP1FastPath
    private let idleTimeout: TimeAmount?
    private var context: ChannelHandlerContext?
    private var state = State.head
    /// Bytes read and not yet handled.
    private var inbound: ByteBuffer?
    private var routerAnswersPending = 0
    private var passedSinceReadComplete = false
    private var readHeld = false
    private var processScheduled = false
    /// The current answer's HTTP minor version and whether the connection closes after it.
    private var minorVersion = 1
    private var closeAfterAnswer = false
    private var quiescing = false
    /// A streamed answer's bytes not yet written (one write per flush).
    private var pending: ByteBuffer?
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?

    public init(fastPath: any HTTP1FastPath, idleTimeout: TimeAmount?) {
        self.fastPath = fastPath
        self.idleTimeout = idleTimeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armIdleTimer(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    private func abandon() {
        if case .answering = state { fastPath.cancel() }
        state = .closed
        inbound = nil
        pending = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    // MARK: Reading requests

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        let bytes = unwrapInboundIn(data)
        if inbound == nil || inbound!.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound!.writeImmutableBuffer(bytes)
        }
        process()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if passedSinceReadComplete {
            passedSinceReadComplete = false
            context.fireChannelReadComplete()
        }
    }

    public func read(context: ChannelHandlerContext) {
        if (inbound?.readableBytes ?? 0) >= Self.maxBuffered {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Handles what has arrived, request by request, until a request must wait or more bytes are needed.
    private func process() {
        guard let context else { return }
        while true {
            switch state {
            case .answering, .closed:
                return
            case .head:
                guard var buffer = inbound, buffer.readableBytes > 0 else { return }
                let head: HTTP1Head
                do {
                    guard let h = try HTTP1Parser.request(&buffer, maxBytes: Self.maxHeadBytes) else {
                        inbound = buffer
                        return
                    }
                    head = h
                } catch let e as HTTP1ParseError {
                    refuse(OpenAIError(status: e.status, message: "Malformed HTTP request: \(e.description)", type: "invalid_request_error",
                                       code: nil))
                    return
                } catch {
                    return
                }
                if fastPath.claims(head) {
                    // Answers go out in order: wait for the router's (the head is parsed again then).
                    guard routerAnswersPending == 0 else { return }
                    inbound = buffer
                    minorVersion = head.minorVersion
                    closeAfterAnswer = !head.keepAlive
                    if let n = head.contentLength, n > fastPath.maxBodyBytes {
                        tooLarge(head)
                        return
                    }
                    if head.expectsContinue {
                        var out = context.channel.allocator.buffer(capacity: 32)
                        out.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
                        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
                    }
                    state = .collecting(head, HTTP1BodyFramer(request: head), nil)
                } else {
                    inbound = buffer
                    routerAnswersPending += 1
                    passOn(head.bytes)
                    state = .passing(HTTP1BodyFramer(request: head))
                }
            case .collecting(let head, var framer, var body):
                state = .answering  // drops the state's references, so appending does not copy
                do {
                    while let piece = try framer.next(&inbound!) {
                        if body == nil { body = piece } else { body!.writeImmutableBuffer(piece) }
                        if body!.readableBytes > fastPath.maxBodyBytes {
                            tooLarge(head)
                            return
                        }
                    }
                } catch {
                    refuse(OpenAIError(status: 400, message: "Malformed HTTP request body: \(error)", type: "invalid_request_error", code: nil))
                    return
                }
                guard framer.isComplete else {
                    state = .collecting(head, framer, body)
                    return
                }
                lastActivity = .now()
                fastPath.answer(head, body: body ?? ByteBuffer(), front: self)
            case .passing(var framer):
                var ahead = inbound!
                let length: Int
                do {
                    length = try framer.skip(&ahead)
                } catch {
                    state = .closed
                    context.close(promise: nil)
                    return
                }
                if length > 0 { passOn(inbound!.readSlice(length: length)!) }
                guard framer.isComplete else {
                    state = .passing(framer)
                    return
                }
                state = .head
            }
        }
    }

    private func passOn(_ bytes: ByteBuffer) {
        passedSinceReadComplete = true
        context?.fireChannelRead(wrapInboundOut(bytes))
    }

    /// Handles bytes that waited behind an answer, after the current call stack (an answer's end
    /// may be reported from inside the code that is still finishing it).
    private func resume() {
        guard let context, !processScheduled else { return }
        if (inbound?.readableBytes ?? 0) > 0 {
            processScheduled = true
            context.eventLoop.assumeIsolated().execute {
                self.processScheduled = false
                self.process()
                if self.passedSinceReadComplete, let context = self.context {
                    self.passedSinceReadComplete = false
                    context.fireChannelReadComplete()
                }
                self.resumeReading()
            }
        } else {
            resumeReading()
        }
    }

    private func resumeReading() {
        if readHeld && (inbound?.readableBytes ?? 0) < Self.maxBuffered {
            readHeld = false
            context?.read()
        }
    }

    /// A router answer has been written to its end (from `HTTP1RouterAnswerWatcher`).
    func routerAnswerEnded() {
        routerAnswersPending = max(0, routerAnswersPending - 1)
        lastActivity = .now()
        if routerAnswersPending == 0 { resume() }
    }

    private func tooLarge(_ head: HTTP1Head) {
        fastPath.refusedTooLarge(head)
        refuse(.tooLarge(limit: fastPath.maxBodyBytes))
    }

    /// Answers an error and closes: what follows on the connection cannot be framed, or is not wanted.
    private func refuse(_ error: OpenAIError) {
        state = .answering
        inbound = nil
        respond(error, close: true)
    }

    // MARK: Writing answers

    /// The connection's event loop (nil once the handler is gone).
    public var eventLoop: (any EventLoop)? { context?.eventLoop }

    /// The connection can take more bytes now.
    public var isWritable: Bool { context?.channel.isWritable ?? false }

    /// A whole answer with its length; `headers` writes extra header lines ("name: value\r\n").
    public func respond(status: Int, body: ByteBuffer, close: Bool = false, headers: (inout ByteBuffer) -> Void) {
        guard let context, case .answering = state else { return }
        var out = context.channel.allocator.buffer(capacity: 192 + body.readableBytes)
        out.writeStatusLine(minorVersion: minorVersion, status: status)
        headers(&out)
        out.writeHeader("content-length", body.readableBytes)
        let closing = close || closeAfterAnswer || quiescing
        if closing {
            out.writeStaticString("connection: close\r\n")
        } else if minorVersion == 0 {
            out.writeStaticString("connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        out.writeImmutableBuffer(body)
        end(context, out, close: closing)
    }

    /// An OpenAI-style error answer (with Retry-After on 429 and 503).
    public func respond(_ error: OpenAIError, close: Bool = false) {
        respond(status: error.status, body: JSONBody.bytes(error), close: close) { out in
            out.writeStaticString("content-type: application/json\r\n")
            if let after = JSONBody.retryAfter(error) { out.writeHeader("retry-after", after) }
        }
    }

    /// Starts a streamed answer (chunked; on HTTP/1.0, delimited by the close). Nothing is written
    /// until the first `flush()`.
    public func startStream(status: Int, headers: (inout ByteBuffer) -> Void) {
        guard let context, case .answering = state else { return }
        var out = context.channel.allocator.buffer(capacity: 1024)
        out.writeStatusLine(minorVersion: minorVersion, status: status)
        headers(&out)
        if minorVersion == 0 { closeAfterAnswer = true }
        if minorVersion >= 1 { out.writeStaticString("transfer-encoding: chunked\r\n") }
        if closeAfterAnswer || quiescing { out.writeStaticString("connection: close\r\n") }
        out.writeStaticString("\r\n")
        pending = out
    }

    /// Adds a piece of the streamed body (written at the next `flush()`).
    public func streamChunk(_ payload: ByteBuffer) {
        guard pending != nil else { return }
        if minorVersion >= 1 { pending!.writeChunk(payload) } else { pending!.writeImmutableBuffer(payload) }
    }

    /// Writes what the stream has gathered.
    public func flush() {
        guard let context, let out = pending, out.readableBytes > 0 else { return }
        pending!.clear()
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
    }

    /// Ends the streamed answer.
    public func endStream() {
        guard let context, case .answering = state, var out = pending else { return }
        pending = nil
        if minorVersion >= 1 { out.writeStaticString("0\r\n\r\n") }
        end(context, out, close: closeAfterAnswer || quiescing)
    }

    /// Writes an answer's last bytes; then the next request may go, or the connection closes.
    private func end(_ context: ChannelHandlerContext, _ out: ByteBuffer, close: Bool) {
        lastActivity = .now()
        if close {
            state = .closed
            inbound = nil
            let closing = context.eventLoop.makePromise(of: Void.self)
            closing.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: closing)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        state = .head
        resume()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .answering = state { fastPath.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .answering, .collecting:
                quiescing = true  // closes after this answer
                return
            default:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
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
        case .answering: return true
        case .passing, .closed: return false
        case .head, .collecting: return routerAnswersPending > 0
        }
    }
}

/// Sits after the HTTP/1.1 codec and tells the connection's `HTTP1Front` when each of the router's
/// answers has been written to its end.
final class HTTP1RouterAnswerWatcher: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let front: HTTP1Front

    init(front: HTTP1Front) {
        self.front = front
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { front.routerAnswerEnded() }
    }
}
