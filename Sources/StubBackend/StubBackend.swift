import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A fast stand-in for an engine replica, for gateway tests and benchmarks: answers
/// `/v1/chat/completions` and `/v1/completions` with a fixed completion at once (or after a delay),
/// streams a fixed number of SSE events, and can fail on purpose (an HTTP status, or dying
/// mid-stream). `/ready`, `/health`, `/v1/models` and `/metrics` (vLLM names) as an engine has them.
public struct StubBackend: Sendable {
    /// How the stub behaves; changeable at run time through `POST /stub/behaviour`.
    public struct Behaviour: Codable, Sendable, Equatable {
        /// Status of completion answers (200, or e.g. 500 / 429 to test retries).
        public var status: Int = 200
        /// Wait before answering (before the headers).
        public var delayMs: Int = 0
        /// SSE events in a streamed answer (each one a content delta), before the final one and [DONE].
        public var events: Int = 16
        /// Wait between SSE events.
        public var eventDelayMs: Int = 0
        /// Close the connection after this many events of a stream (a replica dying mid-stream).
        public var dieAfterEvents: Int?
        /// `/ready` answers 200 when true, 503 otherwise.
        public var ready: Bool = true
        public var model: String = "stub-model"
        /// Write each SSE event of an immediate stream on its own (a syscall each, as an engine
        /// sends tokens as they come); by default an immediate stream goes out in one write, its
        /// events still separate chunks.
        public var flushEachEvent = false

        public init() {}
        enum CodingKeys: String, CodingKey {
            case status, events, ready, model, delayMs = "delay_ms", eventDelayMs = "event_delay_ms", dieAfterEvents = "die_after_events"
            case flushEachEvent = "flush_each_event"
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            status = try c.decodeIfPresent(Int.self, forKey: .status) ?? status
            delayMs = try c.decodeIfPresent(Int.self, forKey: .delayMs) ?? delayMs
            events = try c.decodeIfPresent(Int.self, forKey: .events) ?? events
            eventDelayMs = try c.decodeIfPresent(Int.self, forKey: .eventDelayMs) ?? eventDelayMs
            dieAfterEvents = try c.decodeIfPresent(Int.self, forKey: .dieAfterEvents)
            ready = try c.decodeIfPresent(Bool.self, forKey: .ready) ?? ready
            model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
            flushEachEvent = try c.decodeIfPresent(Bool.self, forKey: .flushEachEvent) ?? flushEachEvent
        }
    }

    /// Shared, mutable state of one stub: its behaviour and counters.
    public final class State: Sendable {
        let behaviour: Mutex<Behaviour>
        public let requests = Atomic<Int>(0)
        public let inflight = Atomic<Int>(0)
        /// Streams whose client went away before the last event.
        public let disconnects = Atomic<Int>(0)
        public init(_ b: Behaviour) { behaviour = Mutex(b) }
        public var current: Behaviour { behaviour.withLock { $0 } }
        public func set(_ b: Behaviour) { behaviour.withLock { $0 = b } }

        private let cachedAnswers = Mutex<Answers?>(nil)
        /// The fixed answers for `model`, encoded once.
        func answers(model: String) -> Answers {
            cachedAnswers.withLock { a in
                if let a, a.model == model { return a }
                let made = Answers(model: model)
                a = made
                return made
            }
        }
    }

    /// The stub's fixed answer bodies and SSE events for one model name.
    struct Answers: @unchecked Sendable {
        let model: String
        let chat, completion, chatEvent, completionEvent, chatLast, completionLast: ByteBuffer

        init(model: String) {
            self.model = model
            let usage = #""usage":{"prompt_tokens":8,"completion_tokens":5,"total_tokens":13}"#
            chat = ByteBuffer(string: #"{"id":"chatcmpl-stub","object":"chat.completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the stub."},"finish_reason":"stop"}],\#(usage)}"#)
            completion = ByteBuffer(string: #"{"id":"cmpl-stub","object":"text_completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"text":"Hello from the stub.","finish_reason":"stop"}],\#(usage)}"#)
            chatEvent = ByteBuffer(string: #"data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1700000000,"model":"\#(model)","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"# + "\n\n")
            completionEvent = ByteBuffer(string: #"data: {"id":"cmpl-stub","object":"text_completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"text":"tok ","finish_reason":null}]}"# + "\n\n")
            chatLast = ByteBuffer(string: #"data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1700000000,"model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n")
            completionLast = ByteBuffer(string: #"data: {"id":"cmpl-stub","object":"text_completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"text":"","finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n")
        }
    }

    /// The body of a deliberate failure answer.
    static func failureBody(_ status: Int) -> String {
        #"{"error":{"message":"stub failure \#(status)","type":"server_error","param":null,"code":null}}"#
    }

    /// The largest completion request body the stub reads.
    static let maxBodyBytes = 8 << 20

    /// Whether a request body asks for a stream.
    static func isStream(_ body: ByteBuffer) -> Bool {
        body.readableBytesView.withContiguousStorageIfAvailable { contains($0, #""stream":true"#) || contains($0, #""stream": true"#) } ?? false
    }

    public let state: State

    public init(_ behaviour: Behaviour = Behaviour()) {
        state = State(behaviour)
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let state = self.state
        router.post("/v1/chat/completions") { request, _ in try await Self.answer(request, state: state, chat: true) }
        router.post("/v1/completions") { request, _ in try await Self.answer(request, state: state, chat: false) }
        router.get("/health") { _, _ in Self.json(200, #"{"status":"ok"}"#) }
        router.get("/ready") { _, _ in state.current.ready ? Self.json(200, #"{"status":"ready"}"#) : Self.json(503, #"{"error":{"message":"not ready","type":"service_unavailable","param":null,"code":null}}"#) }
        router.get("/v1/models") { _, _ in
            Self.json(200, #"{"object":"list","data":[{"id":"\#(state.current.model)","object":"model","created":1700000000,"owned_by":"stub"}]}"#)
        }
        router.get("/metrics") { _, _ in
            let text = "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running \(state.inflight.load(ordering: .relaxed))\n"
                + "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 0\n"
                + "stub_requests_total \(state.requests.load(ordering: .relaxed))\nstub_disconnects_total \(state.disconnects.load(ordering: .relaxed))\n"
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/stub/behaviour") { request, _ -> Response in
            let data = try await request.body.collect(upTo: 1 << 16)
            state.set(try JSONDecoder().decode(Behaviour.self, from: Data(data.readableBytesView)))
            return Self.json(200, #"{"status":"ok"}"#)
        }
        return router
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func answer(_ request: Request, state: State, chat: Bool) async throws -> Response {
        let b = state.current
        state.requests.add(1, ordering: .relaxed)
        let body = try await request.body.collect(upTo: maxBodyBytes)
        let stream = isStream(body)
        if b.delayMs > 0 { try await Task.sleep(for: .milliseconds(b.delayMs)) }
        guard b.status == 200 else {
            var r = json(b.status, failureBody(b.status))
            if b.status == 429 { r.headers[.retryAfter] = "1" }
            return r
        }
        let answers = state.answers(model: b.model)
        if !stream {
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: chat ? answers.chat : answers.completion))
        }
        state.inflight.add(1, ordering: .relaxed)
        let eventBuffer = chat ? answers.chatEvent : answers.completionEvent
        let lastBuffer = chat ? answers.chatLast : answers.completionLast
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            defer { state.inflight.subtract(1, ordering: .relaxed) }
            do {
                for i in 0..<b.events {
                    if let die = b.dieAfterEvents, i >= die { throw StubDied() }
                    if b.eventDelayMs > 0, i > 0 { try await Task.sleep(for: .milliseconds(b.eventDelayMs)) }
                    try await writer.write(eventBuffer)
                }
                try await writer.write(lastBuffer)
                try await writer.finish(nil)
            } catch let e as StubDied {
                throw e
            } catch {
                state.disconnects.add(1, ordering: .relaxed)
                throw error
            }
        })
    }

    struct StubDied: Error {}

    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        for i in 0...(haystack.count - n.count) where haystack[i] == n[0] {
            var j = 1
            while j < n.count && haystack[i + j] == n[j] { j += 1 }
            if j == n.count { return true }
        }
        return false
    }
}
