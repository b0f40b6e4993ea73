import Foundation
import Hummingbird
import LLMEngine
import Logging
import NIOCore
import OpenAIAPI
import ServerSupport

/// `/v1/chat/completions` and `/v1/completions`, streaming (SSE) and not.
struct CompletionRoutes: Sendable {
    let state: ServingState
    let maxBodyBytes: Int

    func chat(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ChatCompletionRequest.self, from: request, limit: maxBodyBytes)
        let (engine, validator, names) = try state.ready()
        try validator.checkModel(body.model)
        let prompt = try validator.chatPrompt(body, model: engine.model)
        let v = try validator.parameters(body, prompt: prompt, promptParam: "messages", defaultMaxTokens: nil)
        let model = body.model.flatMap { $0.isEmpty ? nil : $0 } ?? names[0]
        let id = "chatcmpl-" + Self.randomID()
        let created = Int(Date().timeIntervalSince1970)
        let events = try submit(v, id: id, engine: engine)

        if v.stream {
            let first = ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model,
                                               choices: [.init(index: 0, delta: ChatMessageOut(role: "assistant", content: ""), finishReason: nil)],
                                               usage: nil)
            return Self.sse(events, first: JSONBody.event(first)) { text in
                ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model,
                                       choices: [.init(index: 0, delta: ChatMessageOut(role: nil, content: text), finishReason: nil)], usage: nil)
            } end: { reason, usage in
                var out = [JSONBody.event(ChatCompletionResponse(
                    id: id, object: "chat.completion.chunk", created: created, model: model,
                    choices: [.init(index: 0, delta: ChatMessageOut(role: nil, content: nil), finishReason: reason)], usage: nil))]
                if v.includeUsage {
                    out.append(JSONBody.event(ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created,
                                                                     model: model, choices: [], usage: usage)))
                }
                return out
            }
        }
        let (text, reason, usage) = try await Self.collect(events)
        return JSONBody.response(ChatCompletionResponse(
            id: id, object: "chat.completion", created: created, model: model,
            choices: [.init(index: 0, message: ChatMessageOut(role: "assistant", content: text), finishReason: reason)],
            usage: usage))
    }

    func completion(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CompletionRequest.self, from: request, limit: maxBodyBytes)
        let (engine, validator, names) = try state.ready()
        try validator.checkModel(body.model)
        let prompt = try validator.completionPrompt(body, model: engine.model)
        let v = try validator.parameters(body, prompt: prompt, promptParam: "prompt", defaultMaxTokens: 16)
        let model = body.model.flatMap { $0.isEmpty ? nil : $0 } ?? names[0]
        let id = "cmpl-" + Self.randomID()
        let created = Int(Date().timeIntervalSince1970)
        let events = try submit(v, id: id, engine: engine)

        if v.stream {
            return Self.sse(events, first: nil) { text in
                CompletionResponse(id: id, created: created, model: model, choices: [.init(index: 0, text: text, finishReason: nil)], usage: nil)
            } end: { reason, usage in
                var out = [JSONBody.event(CompletionResponse(id: id, created: created, model: model,
                                                             choices: [.init(index: 0, text: "", finishReason: reason)], usage: nil))]
                if v.includeUsage {
                    out.append(JSONBody.event(CompletionResponse(id: id, created: created, model: model, choices: [], usage: usage)))
                }
                return out
            }
        }
        let (text, reason, usage) = try await Self.collect(events)
        return JSONBody.response(CompletionResponse(id: id, created: created, model: model,
                                                    choices: [.init(index: 0, text: text, finishReason: reason)], usage: usage))
    }

    // MARK: plumbing

    /// Events of one request: the engine thread yields into the stream; when the consumer goes
    /// away (client disconnected, task cancelled), the request is cancelled in the engine.
    struct Events: Sendable {
        let stream: AsyncStream<GenerationEvent>
        let request: GenerationRequest
    }

    private func submit(_ v: ValidatedRequest, id: String, engine: Engine) throws -> Events {
        let (stream, continuation) = AsyncStream<GenerationEvent>.makeStream(bufferingPolicy: .unbounded)
        let request = GenerationRequest(id: id, promptTokens: v.promptTokens, maxTokens: v.maxTokens,
                                        sampling: v.sampling, stop: v.stop, ignoreEOS: v.ignoreEOS) { event in
            continuation.yield(event)
            if case .finished = event { continuation.finish() }
        }
        continuation.onTermination = { reason in
            if case .cancelled = reason { request.cancel() }
        }
        do {
            try engine.submit(request)
        } catch {
            continuation.finish()
            switch error {
            case .promptTooLong, .emptyPrompt:
                throw OpenAIError.invalidRequest(error.description, param: "messages")
            case .exceedsCacheMemory:
                throw OpenAIError.invalidRequest(error.description, param: "max_tokens")
            case .queueFull:
                throw OpenAIError.overloaded(error.description)
            case .shuttingDown:
                throw OpenAIError.notReady(error.description)
            }
        }
        return Events(stream: stream, request: request)
    }

    private static func collect(_ events: Events) async throws -> (String, String, UsageInfo) {
        try await withTaskCancellationHandler {
            var text = ""
            for await e in events.stream {
                switch e {
                case .token(let t, _): text += t
                case .finished(let reason, let u):
                    if reason == .cancelled { throw CancellationError() }
                    return (text, reason.rawValue, UsageInfo(promptTokens: u.promptTokens, completionTokens: u.completionTokens))
                }
            }
            throw CancellationError()
        } onCancel: {
            events.request.cancel()
        }
    }

    /// A `text/event-stream` response: one event per non-empty text piece, then the end events
    /// and `data: [DONE]`. A failed write (client gone) cancels the request in the engine.
    private static func sse(_ events: Events, first: ByteBuffer?, chunk: @escaping @Sendable (String) -> some Encodable & Sendable,
                            end: @escaping @Sendable (String, UsageInfo) -> [ByteBuffer]) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                 body: ResponseBody { writer in
            do {
                if let first { try await writer.write(first) }
                for await e in events.stream {
                    switch e {
                    case .token(let t, _):
                        if !t.isEmpty { try await writer.write(JSONBody.event(chunk(t))) }
                    case .finished(let reason, let u):
                        for b in end(reason.rawValue, UsageInfo(promptTokens: u.promptTokens, completionTokens: u.completionTokens)) {
                            try await writer.write(b)
                        }
                    }
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            } catch {
                events.request.cancel()
                throw error
            }
        })
    }

    static func randomID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<3).map { _ in String(g.next() as UInt64, radix: 16) }.joined()
    }
}
