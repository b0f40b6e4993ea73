import NIOCore
import OpenAIAPI
import ServerSupport

/// One proxied request, from routing to the last byte, on its client connection's event loop.
/// Failures before the first byte reaches the client (connect errors, 5xx, 429, a replica dying
/// before its first event) are retried on another replica after a jittered backoff; after that
/// the stream is passed through event by event, and a replica dying mid-stream ends it with an SSE
/// error event.
final class ProxyExchange: UpstreamResponseDelegate, DeadlineListNode {
    /// Why an attempt did not reach the client, and what to answer if it was the last one.
    struct Failure {
        var reason: String
        var metricReason: String
        var countsAgainstReplica: Bool
        var response: (answer: UpstreamAnswer, body: ByteBuffer)?
    }

    private enum Phase {
        case routing
        case awaitingHead
        /// A whole body is collected first: non-streamed answers (retryable until complete) and
        /// failed attempts (passed through if no other replica answers).
        case buffering(UpstreamAnswer, body: ByteBuffer?, failed: Bool)
        case awaitingFirstEvent(UpstreamAnswer)
        case streaming
        case done
    }

    private let core: GatewayCore
    private let pool: UpstreamPool
    let route: ProxyHandler.Route
    /// The client's headers passed on ("name: value\r\n" lines).
    private let forwardedHeaders: ByteBuffer
    private let body: ByteBuffer
    private let key: RequestRouter.Key
    private let started = ContinuousClock.now
    private weak var owner: ProxyHandler?
    private var client: HTTP1Front?
    private var phase = Phase.routing
    private var level = LoadLevel.low
    private var attempt = 0
    /// Replicas whose attempt failed; the next attempts go elsewhere.
    private var tried: Set<String> = []
    private var lastFailure: Failure?
    /// The policy of the last routing decision (nil before one).
    private var policy: RoutingPolicy?
    private var lease: InflightLease?
    private var connection: UpstreamConnection?
    private var reusedConnection = false
    private var reconnected = false
    /// The jittered wait before a retry.
    private var backoff: Scheduled<Void>?
    /// Its place in the loop's list of upstream deadlines.
    var deadlineLinks = DeadlineLinks<ProxyExchange>()
    /// The admission wait, when the request could not go at once.
    var waitTask: Task<Void, Never>?

    static let largestBody = 64 << 20
    static let largestFailureBody = 1 << 20

    init(core: GatewayCore, pool: UpstreamPool, owner: ProxyHandler, front: HTTP1Front, route: ProxyHandler.Route, forwardedHeaders: ByteBuffer,
         body: ByteBuffer, key: RequestRouter.Key) {
        self.core = core
        self.pool = pool
        self.owner = owner
        self.client = front
        self.route = route
        self.forwardedHeaders = forwardedHeaders
        self.body = body
        self.key = key
    }

    /// Routes the first attempt at the admitted load level.
    /// `candidates`: the admission's snapshot, used by the first attempt instead of a fresh one.
    func start(level: LoadLevel, candidates: [Replica]? = nil) {
        guard client != nil else { return }
        self.level = level
        nextAttempt(candidates)
    }

    /// Ends the request with a gateway error (admission refused it).
    func reject(_ error: OpenAIError) {
        guard let client else { return }
        pool.metrics.request(route, status: error.status, policy: policy)
        client.respond(error)
        finish()
    }

    /// The client went away: the upstream request is dropped at once.
    func cancel() {
        waitTask?.cancel()
        backoff?.cancel()
        pool.deadlines.disarm(self)
        connection?.close()
        connection = nil
        lease?.release()
        lease = nil
        client = nil
        phase = .done
    }

    /// The client can take more: resume reading the replica.
    func clientWritable() {
        if case .streaming = phase { connection?.setReading(true) }
    }

    // MARK: Attempts

    private func nextAttempt(_ snapshot: [Replica]? = nil) {
        guard client != nil else { return }
        let retries = core.configuration.retries
        guard attempt <= retries.maxRetries else { return giveUp() }
        let level: LoadLevel, candidates: [Replica]
        if attempt == 0, let snapshot {
            (level, candidates) = (self.level, snapshot)
        } else {
            let ready = core.pool.routable
            level = attempt == 0 ? self.level : core.updateLoad(ready: ready)
            candidates = core.candidates(from: ready, excluding: tried)
        }
        guard !candidates.isEmpty else { return giveUp() }
        let decision = core.router.pick(core.policy(for: level), among: candidates, key: key)
        policy = decision.policy
        pool.metrics.routing(policy: decision.policy, reason: decision.reason)
        attempt += 1
        let cap = attempt > 1 ? retries.backoffMs << min(attempt - 2, 10) : 0
        if cap > 0 {
            phase = .routing
            backoff = pool.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64.random(in: 0...Int64(cap)))) {
                self.backoff = nil
                self.dispatch(to: decision.replica)
            }
        } else {
            dispatch(to: decision.replica)
        }
    }

    private func dispatch(to replica: Replica) {
        guard client != nil else { return }
        lease = core.lease(replica)
        reconnected = false
        pool.deadlines.arm(self, at: pool.eventLoop.now + .milliseconds(Int64(core.configuration.limits.upstreamTimeoutMs)))
        connect(to: replica, fresh: false)
    }

    private func connect(to replica: Replica, fresh: Bool) {
        phase = .awaitingHead
        pool.connection(to: replica.endpoint, fresh: fresh) { result, reused in
            switch result {
            case .success(let c):
                guard self.client != nil, case .awaitingHead = self.phase else {
                    self.pool.release(c)
                    return
                }
                self.connection = c
                self.reusedConnection = reused
                c.send(self.request(to: replica), to: self)
            case .failure(let error):
                guard self.client != nil, case .awaitingHead = self.phase else { return }
                self.attemptFailed(Failure(reason: "\(error)", metricReason: "connect_error", countsAgainstReplica: true))
            }
        }
    }

    /// The request as the replica gets it, head and body in one buffer.
    private func request(to replica: Replica) -> ByteBuffer {
        var out = pool.allocator.buffer(capacity: 160 + forwardedHeaders.readableBytes + body.readableBytes)
        out.writeStaticString("POST ")
        out.writeString(route.rawValue)
        out.writeStaticString(" HTTP/1.1\r\n")
        out.writeHeader("host", replica.hostHeader)
        out.writeStaticString("content-type: application/json\r\n")
        out.writeHeader("content-length", body.readableBytes)
        out.writeImmutableBuffer(forwardedHeaders)
        out.writeStaticString("\r\n")
        out.writeImmutableBuffer(body)
        return out
    }

    private func attemptFailed(_ failure: Failure) {
        pool.deadlines.disarm(self)
        connection?.close()
        connection = nil
        if let lease {
            tried.insert(lease.replica.url)  // only here: a request that succeeds at once builds no set
            if failure.countsAgainstReplica { core.proxyFailure(lease.replica, failure.reason) }
            core.logger.info("\(route.rawValue) attempt \(attempt) on \(lease.replica.url) failed: \(failure.reason)")
            lease.release()
        }
        lease = nil
        lastFailure = failure
        GatewayMetrics.retry(reason: failure.metricReason)
        nextAttempt()
    }

    /// No attempt is left: pass the last replica's error through, or answer 503/502.
    private func giveUp() {
        guard let client else { return }
        if let r = lastFailure?.response {
            pool.metrics.request(route, status: r.answer.status, policy: policy)
            client.respond(status: r.answer.status, body: r.body) { r.answer.writeHeaders(&$0) }
        } else if core.pool.routable.isEmpty {
            GatewayMetrics.rejected(reason: "no_ready_replica")
            pool.metrics.request(route, status: 503, policy: policy)
            client.respond(OpenAIError.notReady("No replica is ready to serve the request"))
        } else {
            pool.metrics.request(route, status: 502, policy: policy)
            client.respond(OpenAIError(status: 502, message: "Every replica tried failed: \(lastFailure?.reason ?? "no replica left to try")",
                                       type: "server_error", code: "bad_gateway"))
        }
        finish()
    }

    private func finish() {
        pool.deadlines.disarm(self)
        lease?.release()
        lease = nil
        phase = .done
        client = nil
        owner?.exchangeDone(self)
    }

    /// The replica did not answer within `limits.upstream_timeout_ms` (called by the loop's `DeadlineList`).
    func deadlinePassed() {
        upstreamFailed(UpstreamTimeoutError(ms: core.configuration.limits.upstreamTimeoutMs))
    }

    // MARK: UpstreamResponseDelegate

    func upstreamHead(_ head: HTTP1Head) {
        guard case .awaitingHead = phase, let lease else { return }
        let answer = UpstreamAnswer(status: head.status, contentType: head.value("content-type"), retryAfter: head.value("retry-after"),
                                    replica: lease.replica.url)
        if answer.status >= 500 || answer.status == 429 {
            phase = .buffering(answer, body: nil, failed: true)
        } else if answer.status == 200, answer.contentType?.hasPrefix("text/event-stream") == true {
            phase = .awaitingFirstEvent(answer)
        } else {
            phase = .buffering(answer, body: nil, failed: false)
        }
    }

    func upstreamBody(_ chunk: ByteBuffer) {
        switch phase {
        case .streaming:
            client?.streamChunk(chunk)
            if client?.isWritable == false { connection?.setReading(false) }
        case .awaitingFirstEvent(let answer):
            guard let client, let lease else { return }
            // Committed: from here on nothing is retried, and a stream may take as long as it takes.
            pool.deadlines.disarm(self)
            lease.replica.recordProxySuccess()
            pool.metrics.timeToFirstByte(route, seconds: .now - started)
            pool.metrics.request(route, status: 200, policy: policy)
            phase = .streaming
            client.startStream(status: 200) { answer.writeHeaders(&$0) }
            client.streamChunk(chunk)
        case .buffering(let answer, var body, let failed):
            phase = .routing  // drops the phase's reference, so appending does not copy the buffer
            if body == nil {
                body = chunk
            } else {
                body!.writeImmutableBuffer(chunk)
            }
            phase = .buffering(answer, body: body, failed: failed)
            if body!.readableBytes > (failed ? Self.largestFailureBody : Self.largestBody) {
                upstreamFailed(UpstreamBodyTooLargeError(bytes: body!.readableBytes))
            }
        default:
            break
        }
    }

    func upstreamReadComplete() {
        if case .streaming = phase { client?.flush() }
    }

    func upstreamEnd() {
        guard let lease else { return }
        if let c = connection {
            connection = nil
            pool.release(c)
        }
        switch phase {
        case .buffering(let answer, let body, let failed):
            let status = answer.status
            if failed {
                attemptFailed(Failure(reason: "HTTP \(status) from \(lease.replica.url)", metricReason: "status_\(status)",
                                      countsAgainstReplica: status >= 500,
                                      response: (answer, body ?? ByteBuffer())))
                return
            }
            lease.replica.recordProxySuccess()
            pool.metrics.request(route, status: status, policy: policy)
            pool.metrics.duration(route, seconds: .now - started)
            client?.respond(status: status, body: body ?? ByteBuffer()) { answer.writeHeaders(&$0) }
            finish()
        case .awaitingFirstEvent:
            attemptFailed(Failure(reason: "stream from \(lease.replica.url) ended before its first event",
                                  metricReason: "stream_start_error", countsAgainstReplica: true))
        case .streaming:
            pool.metrics.duration(route, seconds: .now - started)
            client?.endStream()
            finish()
        default:
            break
        }
    }

    func upstreamFailed(_ error: any Error) {
        guard let lease, let failedConnection = connection else { return }
        connection = nil
        failedConnection.close()
        switch phase {
        case .streaming:
            // The replica went away mid-stream: end this response with an error event.
            core.proxyFailure(lease.replica, "stream broke: \(error)")
            GatewayMetrics.rejected(reason: "upstream_died_mid_stream")
            pool.metrics.duration(route, seconds: .now - started)
            let e = OpenAIError(status: 502, message: "The replica serving this stream failed: \(error)",
                                type: "server_error", code: "upstream_failed")
            client?.streamChunk(JSONBody.event(e))
            client?.endStream()
            finish()
        case .awaitingHead where reusedConnection && !failedConnection.responseStarted && !reconnected && !(error is UpstreamTimeoutError):
            // A pooled connection the replica had closed while idle: once more on a new one.
            reconnected = true
            connect(to: lease.replica, fresh: true)
        case .awaitingHead:
            attemptFailed(Failure(reason: "\(error)", metricReason: "connect_error", countsAgainstReplica: true))
        case .buffering:
            attemptFailed(Failure(reason: "reading the body from \(lease.replica.url): \(error)",
                                  metricReason: "body_error", countsAgainstReplica: true))
        case .awaitingFirstEvent:
            attemptFailed(Failure(reason: "stream from \(lease.replica.url) failed before its first event: \(error)",
                                  metricReason: "stream_start_error", countsAgainstReplica: true))
        case .routing, .done:
            break
        }
    }
}

/// The replica did not answer within `limits.upstream_timeout_ms`.
struct UpstreamTimeoutError: Error, CustomStringConvertible {
    let ms: Int
    var description: String { "no complete answer within \(ms) ms" }
}

/// A buffered answer grew past what the gateway keeps in memory.
struct UpstreamBodyTooLargeError: Error, CustomStringConvertible {
    let bytes: Int
    var description: String { "the answer exceeded \(bytes) bytes" }
}

/// What the gateway passes on from a replica's response head.
struct UpstreamAnswer {
    let status: Int
    let contentType: String?
    let retryAfter: String?
    /// The replica that answered (the `x-scalellm-replica` header).
    let replica: String

    func writeHeaders(_ out: inout ByteBuffer) {
        if let contentType { out.writeHeader("content-type", contentType) }
        if let retryAfter { out.writeHeader("retry-after", retryAfter) }
        out.writeHeader("x-scalellm-replica", replica)
    }
}
