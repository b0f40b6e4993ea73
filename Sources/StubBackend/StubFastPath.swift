import HummingbirdCore
import NIOCore
import NIOHTTP1
import ServerSupport

/// Answers completion requests on the event loop when the stub's behaviour has no waits and no
/// failure mid-stream (the benchmark case), so the stub costs little next to the router measured in
/// front of it. Anything else, and any request while a router answer is still being written, goes
/// on to the Hummingbird router, which implements every behaviour.
final class StubFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: StubBackend.State
    private var answering: (chat: Bool, body: ByteBuffer?)?
    private var forwarding = false
    private var routerAnswersPending = 0

    init(state: StubBackend.State) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            let path = request.uri
            let b = state.current
            if request.method == .POST, path == "/v1/chat/completions" || path == "/v1/completions", routerAnswersPending == 0,
               b.delayMs == 0, b.eventDelayMs == 0, b.dieAfterEvents == nil {
                answering = (path == "/v1/chat/completions", nil)
                return
            }
            forwarding = true
            routerAnswersPending += 1
            context.fireChannelRead(data)
        case .body(let chunk):
            if forwarding {
                context.fireChannelRead(data)
            } else if answering != nil {
                if answering!.body == nil { answering!.body = chunk } else { answering!.body!.writeImmutableBuffer(chunk) }
            }
        case .end:
            if forwarding {
                forwarding = false
                context.fireChannelRead(data)
            } else if let a = answering {
                answering = nil
                answer(context: context, chat: a.chat, body: a.body ?? ByteBuffer())
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routerAnswersPending -= 1 }
        context.write(data, promise: promise)
    }

    private func answer(context: ChannelHandlerContext, chat: Bool, body: ByteBuffer) {
        let b = state.current
        state.requests.add(1, ordering: .relaxed)
        guard b.status == 200 else {
            var headers = HTTPHeaders([("content-type", "application/json")])
            if b.status == 429 { headers.add(name: "retry-after", value: "1") }
            write(context, status: b.status, headers: headers, body: [ByteBuffer(string: StubBackend.failureBody(b.status))])
            return
        }
        let stream = StubBackend.isStream(body)
        let answers = state.answers(model: b.model)
        if !stream {
            write(context, status: 200, headers: HTTPHeaders([("content-type", "application/json")]), body: [chat ? answers.chat : answers.completion])
            return
        }
        state.inflight.add(1, ordering: .relaxed)
        defer { state.inflight.subtract(1, ordering: .relaxed) }
        let event = chat ? answers.chatEvent : answers.completionEvent
        var parts = [ByteBuffer](repeating: event, count: max(b.events, 0))
        parts.append(chat ? answers.chatLast : answers.completionLast)
        // Each event is flushed on its own, as an engine sends tokens as they come.
        write(context, status: 200, headers: HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")]),
              body: parts, eventByEvent: true)
    }

    private func write(_ context: ChannelHandlerContext, status: Int, headers: HTTPHeaders, body: [ByteBuffer], eventByEvent: Bool = false) {
        var head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)
        if !eventByEvent { head.headers.add(name: "content-length", value: String(body.reduce(0) { $0 + $1.readableBytes })) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        for part in body {
            if eventByEvent {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            } else {
                context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

extension StubBackend {
    /// HTTP/1.1 with the event-loop fast path for completions (`StubFastPath`, right after the codec).
    public func server() -> HTTPServerBuilder {
        let state = self.state
        return .http1 { StubFastPath(state: state) }
    }
}
