import OpenAIAPI

/// The checks a proxied request passes before it is routed: API key, per-key limits, and admission
/// (the bounded queue at the high load level, the hold while no replica is ready). The common case
/// is decided synchronously on the event loop; only waiting goes through Swift concurrency.
struct ProxyAdmission: Sendable {
    let core: GatewayCore

    /// The caller's identity for rate limits; 401 without a valid key.
    func authenticate(_ authorization: String?) throws -> String {
        if core.keys.isOpen { return "anonymous" }
        guard let index = core.keys.authenticate(authorization) else {
            GatewayMetrics.rejected(reason: "unauthorized")
            throw OpenAIError(status: 401, message: "Incorrect or missing API key: pass it as 'Authorization: Bearer KEY'",
                              type: "invalid_request_error", code: "invalid_api_key")
        }
        return "key\(index)"
    }

    /// Counts the request (and its estimated tokens) against the caller's per-minute limits; 429 past them.
    func charge(_ identity: String, tokens: Int) throws {
        guard let hit = core.limiter.charge(identity, tokens: tokens) else { return }
        GatewayMetrics.rejected(reason: "rate_limit")
        var e = OpenAIError(status: 429, message: "Rate limit reached: \(hit.limit)", type: "rate_limit_exceeded",
                            code: "rate_limit_exceeded")
        e.retryAfter = hit.retryAfter
        throw e
    }

    /// The load level to route at, and the candidates it saw, when the request may go now: a replica
    /// is ready and, at the high level, one is below its in-flight cap. Nil when it has to wait (`admit()`).
    func admitNow() -> (level: LoadLevel, candidates: [Replica])? {
        let ready = core.pool.routable
        let level = core.updateLoad(ready: ready)
        let candidates = core.candidates(from: ready)
        guard !candidates.isEmpty else { return nil }
        let cap = core.configuration.admission.maxInflightPerReplica
        if level < .high || candidates.contains(where: { $0.inflight < cap }) { return (level, candidates) }
        return nil
    }

    /// At the high load level, waits in the bounded admission queue while every candidate is at its
    /// in-flight cap; 429 when the queue is full or the wait times out, 503 when nothing is ready.
    func admit() async throws -> LoadLevel {
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
}
