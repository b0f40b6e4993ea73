import HummingbirdCore
import NIOCore
import ServerSupport

/// Answers completion requests at the front of the connection, in raw HTTP/1.1, when the stub's
/// behaviour has no waits and no failure mid-stream (the benchmark case), so the stub costs little
/// next to the router measured in front of it. Anything else goes on to the Hummingbird router,
/// which implements every behaviour.
final class StubFastPath: HTTP1FastPath {
    private let state: StubBackend.State

    init(state: StubBackend.State) {
        self.state = state
    }

    var maxBodyBytes: Int { StubBackend.maxBodyBytes }

    func claims(_ head: HTTP1Head) -> Bool {
        guard head.methodIs("POST"), head.pathIs("/v1/chat/completions") || head.pathIs("/v1/completions") else { return false }
        let b = state.current
        return b.delayMs == 0 && b.eventDelayMs == 0 && b.dieAfterEvents == nil
    }

    func cancel() {}
    func clientWritable() {}
    func refusedTooLarge(_ head: HTTP1Head) {}

    func answer(_ head: HTTP1Head, body: ByteBuffer, front: HTTP1Front) {
        let chat = head.pathIs("/v1/chat/completions")
        let b = state.current
        state.requests.add(1, ordering: .relaxed)
        guard b.status == 200 else {
            front.respond(status: b.status, body: ByteBuffer(string: StubBackend.failureBody(b.status))) { out in
                out.writeStaticString("content-type: application/json\r\n")
                if b.status == 429 { out.writeStaticString("retry-after: 1\r\n") }
            }
            return
        }
        let answers = state.answers(model: b.model)
        guard StubBackend.isStream(body) else {
            front.respond(status: 200, body: chat ? answers.chat : answers.completion) { out in
                out.writeStaticString("content-type: application/json\r\n")
            }
            return
        }
        state.inflight.add(1, ordering: .relaxed)
        defer { state.inflight.subtract(1, ordering: .relaxed) }
        front.startStream(status: 200) { out in
            out.writeStaticString("content-type: text/event-stream\r\ncache-control: no-cache\r\n")
        }
        let event = chat ? answers.chatEvent : answers.completionEvent
        for _ in 0..<max(b.events, 0) {
            front.streamChunk(event)
            if b.flushEachEvent { front.flush() }
        }
        front.streamChunk(chat ? answers.chatLast : answers.completionLast)
        front.endStream()
    }
}

extension StubBackend {
    /// HTTP/1.1 with the raw fast path for completions (`StubFastPath`, at the connection's front).
    public func server() -> HTTPServerBuilder {
        let state = self.state
        return .http1 { StubFastPath(state: state) }
    }
}
