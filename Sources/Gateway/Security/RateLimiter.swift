import Synchronization

/// Per-client token buckets for requests per minute and tokens per minute. A bucket holds up to a
/// minute's allowance and refills continuously.
public final class RateLimiter: Sendable {
    public let requestsPerMinute: Int
    public let tokensPerMinute: Int

    private struct Buckets {
        var requests: Double
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Buckets]>([:])

    public init(requestsPerMinute: Int, tokensPerMinute: Int) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
    }

    public var isEnabled: Bool { requestsPerMinute > 0 || tokensPerMinute > 0 }

    /// Charges one request of `tokens` to `client`; nil when allowed, else which limit was hit and
    /// the seconds until it would be allowed.
    public func charge(_ client: String, tokens: Int, now: ContinuousClock.Instant = .now) -> (limit: String, retryAfter: Int)? {
        guard isEnabled else { return nil }
        let rpm = Double(requestsPerMinute), tpm = Double(tokensPerMinute)
        return buckets.withLock { all in
            var b = all[client] ?? Buckets(requests: rpm, tokens: tpm, updated: now)
            let elapsed = Double((now - b.updated).components.seconds) + Double((now - b.updated).components.attoseconds) * 1e-18
            b.requests = min(rpm, b.requests + elapsed * rpm / 60)
            b.tokens = min(tpm, b.tokens + elapsed * tpm / 60)
            b.updated = now
            defer { all[client] = b }
            if requestsPerMinute > 0 && b.requests < 1 {
                return ("requests per minute (\(requestsPerMinute))", Int(((1 - b.requests) * 60 / rpm).rounded(.up)))
            }
            let cost = Double(tokens)
            if tokensPerMinute > 0 && b.tokens < min(cost, tpm) {
                return ("tokens per minute (\(tokensPerMinute))", Int(((min(cost, tpm) - b.tokens) * 60 / tpm).rounded(.up)))
            }
            if requestsPerMinute > 0 { b.requests -= 1 }
            if tokensPerMinute > 0 { b.tokens -= min(cost, tpm) }
            return nil
        }
    }
}
