import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import OpenAIAPI
import ServerSupport

/// Forwards `/v1/chat/completions` and `/v1/completions` to a replica picked by the current load
/// level's policy. Failures before the first byte reaches the client (connect errors, 5xx, 429, a
/// replica dying before its first event) are retried on another replica with jittered backoff;
/// after that the stream is passed through event by event, and a replica dying mid-stream ends it
/// with an SSE error event.
struct ProxyRoutes: Sendable {
    let core: GatewayCore
    let client: HTTPClient

    /// Headers passed on to the replica besides the body's content type.
    static let forwardedHeaders = ["accept", "x-request-id", "traceparent", "tracestate"]

    func handle(_ request: Request, context: some RequestContext, path: String) async throws -> Response {
        let started = ContinuousClock.now
        let route = path
        var policyLabel = "none"
        do {
            let response = try await proxy(request, path: path, started: started, policyLabel: &policyLabel)
            GatewayMetrics.request(route: route, status: Int(response.status.code), policy: policyLabel)
            return response
        } catch let e as OpenAIError {
            GatewayMetrics.request(route: route, status: e.status, policy: policyLabel)
            throw e
        }
    }

    private func proxy(_ request: Request, path: String, started: ContinuousClock.Instant, policyLabel: inout String) async throws -> Response {
        let limits = core.configuration.limits
        let identity = try authenticate(request)
        let body = try await JSONBody.collect(request, limit: limits.maxBodyBytes)
        // The body is parsed only when routing or limits need the prompt (prefix affinity, token
        // limits); otherwise it goes through untouched and the engine validates it.
        let needsPrompt = core.policy(for: core.level) == .prefixAffinity || core.limiter.tokensPerMinute > 0
        let hints = needsPrompt ? try RoutingHints.parse(Data(body.readableBytesView)) : RoutingHints()
        if let hit = core.limiter.charge(identity, tokens: hints.estimatedTokens) {
            GatewayMetrics.rejected(reason: "rate_limit")
            var e = OpenAIError(status: 429, message: "Rate limit reached: \(hit.limit)", type: "rate_limit_exceeded",
                                code: "rate_limit_exceeded")
            e.retryAfter = hit.retryAfter
            throw e
        }
        let routing = core.configuration.routing
        let key = RequestRouter.Key(
            prefixHashes: hints.prefixHashes(blockChars: routing.prefixBlockChars, maxBlocks: routing.prefixBlocks),
            session: request.headers[HTTPField.Name(routing.sessionHeader)!])

        let admittedLevel = try await admit()
        var tried: Set<String> = []
        var lastFailure: UpstreamFailure?
        let retries = core.configuration.retries
        for attempt in 0...retries.maxRetries {
            let ready = core.pool.routable
            let level = attempt == 0 ? admittedLevel : core.updateLoad(ready: ready)
            let candidates = core.candidates(from: ready, excluding: tried)
            guard !candidates.isEmpty else { break }
            if attempt > 0 {
                let cap = retries.backoffMs << min(attempt - 1, 10)
                if cap > 0 { try? await Task.sleep(for: .milliseconds(Int.random(in: 0...cap))) }
            }
            let policy = core.policy(for: level)
            let decision = core.router.pick(policy, among: candidates, key: key)
            policyLabel = decision.policy.rawValue
            GatewayMetrics.routing(policy: decision.policy, reason: decision.reason)
            tried.insert(decision.replica.url)
            let lease = core.lease(decision.replica)
            switch await send(body, path: path, request: request, lease: lease, started: started) {
            case .response(let r):
                return r
            case .failed(let failure):
                lease.release()
                lastFailure = failure
                if failure.countsAgainstReplica { core.proxyFailure(decision.replica, failure.reason) }
                GatewayMetrics.retry(reason: failure.metricReason)
                core.logger.info("\(path) attempt \(attempt + 1) on \(decision.replica.url) failed: \(failure.reason)")
            }
        }
        if let passthrough = lastFailure?.response { return passthrough }
        if core.pool.routable.isEmpty {
            throw OpenAIError.notReady("No replica is ready to serve the request")
        }
        throw OpenAIError(status: 502, message: "Every replica tried failed: \(lastFailure?.reason ?? "no replica left to try")",
                          type: "server_error", code: "bad_gateway")
    }

    private func authenticate(_ request: Request) throws -> String {
        if core.keys.isOpen { return "anonymous" }
        guard let index = core.keys.authenticate(request.headers[.authorization]) else {
            GatewayMetrics.rejected(reason: "unauthorized")
            throw OpenAIError(status: 401, message: "Incorrect or missing API key: pass it as 'Authorization: Bearer KEY'",
                              type: "invalid_request_error", code: "invalid_api_key")
        }
        return "key\(index)"
    }

    /// At the high load level, waits in the bounded admission queue while every candidate is at its
    /// in-flight cap; 429 when the queue is full or the wait times out, 503 when nothing is ready.
    private func admit() async throws -> LoadLevel {
        let cap = core.configuration.admission.maxInflightPerReplica
        let deadline = ContinuousClock.now + .milliseconds(core.configuration.admission.timeoutMs)
        while true {
            let ready = core.pool.routable
            let level = core.updateLoad(ready: ready)
            let candidates = core.candidates(from: ready)
            guard !candidates.isEmpty else {
                if try await holdForColdStart() { continue }
                GatewayMetrics.rejected(reason: "no_ready_replica")
                throw OpenAIError.notReady("No replica is ready to serve the request")
            }
            if level < .high || candidates.contains(where: { $0.inflight < cap }) { return level }
            let left = deadline - .now
            guard left > .zero else {
                GatewayMetrics.rejected(reason: "admission_timeout")
                throw OpenAIError.overloaded("Every replica is at capacity and the request waited \(core.configuration.admission.timeoutMs) ms")
            }
            GatewayMetrics.admissionQueue.record(core.admission.depth + 1)
            let outcome = await core.admission.wait(timeout: left)
            GatewayMetrics.admissionQueue.record(core.admission.depth)
            switch outcome {
            case .admitted: continue
            case .full:
                GatewayMetrics.rejected(reason: "admission_queue_full")
                throw OpenAIError.overloaded("Every replica is at capacity and the admission queue (\(core.admission.capacity)) is full")
            case .timedOut:
                GatewayMetrics.rejected(reason: "admission_timeout")
                throw OpenAIError.overloaded("Every replica is at capacity and the request waited \(core.configuration.admission.timeoutMs) ms")
            case .cancelled:
                throw CancellationError()
            }
        }
    }

    /// Waits (bounded by `admission.cold_start_timeout_ms` and `queue_size`) for a replica to become
    /// ready, counting the request as held demand meanwhile. False when holding is off, the hold
    /// queue is full or the wait timed out.
    private func holdForColdStart() async throws -> Bool {
        let a = core.configuration.admission
        guard a.coldStartTimeoutMs > 0 else { return false }
        let held = core.waitingForReplica.add(1, ordering: .relaxed).newValue
        defer { core.waitingForReplica.subtract(1, ordering: .relaxed) }
        guard held <= a.queueSize else { return false }
        let deadline = ContinuousClock.now + .milliseconds(a.coldStartTimeoutMs)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            if !core.pool.routable.isEmpty { return true }
        }
        GatewayMetrics.rejected(reason: "cold_start_timeout")
        return false
    }

    /// Why an attempt did not reach the client, and what to answer if it was the last one.
    struct UpstreamFailure {
        var reason: String
        var metricReason: String
        var countsAgainstReplica: Bool
        var response: Response?
    }

    enum Attempt {
        case response(Response)
        case failed(UpstreamFailure)
    }

    private func send(_ body: ByteBuffer, path: String, request: Request, lease: InflightLease,
                      started: ContinuousClock.Instant) async -> Attempt {
        var upstream = HTTPClientRequest(url: lease.replica.url + path)
        upstream.method = .POST
        upstream.headers.add(name: "content-type", value: "application/json")
        for name in Self.forwardedHeaders {
            if let n = HTTPField.Name(name), let v = request.headers[n] { upstream.headers.add(name: name, value: v) }
        }
        upstream.body = .bytes(body)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, timeout: .milliseconds(Int64(core.configuration.limits.upstreamTimeoutMs)))
        } catch {
            return .failed(UpstreamFailure(reason: "\(error)", metricReason: "connect_error", countsAgainstReplica: true))
        }
        let status = Int(response.status.code)
        var headers: HTTPFields = [:]
        if let ct = response.headers.first(name: "content-type") { headers[.contentType] = ct }
        if let ra = response.headers.first(name: "retry-after") { headers[.retryAfter] = ra }
        headers[HTTPField.Name("x-scalellm-replica")!] = lease.replica.url
        let route = path

        if status >= 500 || status == 429 {
            let bytes = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            return .failed(UpstreamFailure(reason: "HTTP \(status) from \(lease.replica.url)", metricReason: "status_\(status)",
                                           countsAgainstReplica: status >= 500,
                                           response: Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: bytes))))
        }
        let stream = response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        if !stream || status != 200 {
            // Whole body first: a replica failing mid-body can still be retried elsewhere.
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: 64 << 20)
            } catch {
                return .failed(UpstreamFailure(reason: "reading the body from \(lease.replica.url): \(error)",
                                               metricReason: "body_error", countsAgainstReplica: true))
            }
            lease.replica.recordProxySuccess()
            lease.release()
            GatewayMetrics.duration(route: route, seconds: .now - started)
            return .response(Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: bytes)))
        }
        // Streaming: wait for the first event before committing, so a replica that dies before it
        // can be retried.
        var iterator = response.body.makeAsyncIterator()
        let first: ByteBuffer?
        do {
            first = try await iterator.next()
        } catch {
            return .failed(UpstreamFailure(reason: "stream from \(lease.replica.url) failed before its first event: \(error)",
                                           metricReason: "stream_start_error", countsAgainstReplica: true))
        }
        guard let first else {
            return .failed(UpstreamFailure(reason: "stream from \(lease.replica.url) ended before its first event",
                                           metricReason: "stream_start_error", countsAgainstReplica: true))
        }
        lease.replica.recordProxySuccess()
        GatewayMetrics.timeToFirstByte(route: route, seconds: .now - started)
        let core = self.core
        let upstreamBody = IteratorHandoff(iterator)
        let body = ResponseBody { writer in
            var iterator = upstreamBody.iterator
            defer {
                lease.release()
                GatewayMetrics.duration(route: route, seconds: .now - started)
            }
            try await writer.write(first)
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await iterator.next()
                } catch {
                    // The replica went away mid-stream: end this response with an error event.
                    core.proxyFailure(lease.replica, "stream broke: \(error)")
                    GatewayMetrics.rejected(reason: "upstream_died_mid_stream")
                    let e = OpenAIError(status: 502, message: "The replica serving this stream failed: \(error)",
                                        type: "server_error", code: "upstream_failed")
                    try await writer.write(JSONBody.event(e))
                    break
                }
                guard let chunk else { break }
                try await writer.write(chunk)  // throws when the client is gone: the upstream is dropped
            }
            try await writer.finish(nil)
        }
        return .response(Response(status: .ok, headers: headers, body: body))
    }
}

/// Hands the upstream body's iterator (already advanced past the first event) to the response
/// writer task. Only one task uses it at a time: the handler stops touching it once it returns.
private struct IteratorHandoff: @unchecked Sendable {
    let iterator: HTTPClientResponse.Body.AsyncIterator
    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }
}
