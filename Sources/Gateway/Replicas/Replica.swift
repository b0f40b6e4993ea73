import OpenAIAPI
import Synchronization

/// One engine replica as the gateway sees it: address, pool, health, draining, circuit breaker, the
/// requests the gateway has in flight to it and the queue the engine reports in its /metrics.
public final class Replica: Sendable {
    public let endpoint: Endpoint
    public let pool: String
    public let tensorParallel: Int
    /// Requests this gateway has in flight to the replica (an atomic, touched twice per request).
    public let inflightCounter = Atomic<Int>(0)
    private let state: Mutex<ReplicaHealth>

    public init(_ backend: BackendConfiguration) throws {
        endpoint = try backend.endpoint()
        url = endpoint.description
        hostHeader = endpoint.hostHeader
        pool = backend.pool
        tensorParallel = max(1, backend.tensorParallel)
        state = Mutex(ReplicaHealth())
    }

    /// `http://host:port`, the replica's name everywhere (made once: requests use it several times).
    public let url: String
    /// The Host header of requests to the replica.
    let hostHeader: String
    public var inflight: Int { inflightCounter.load(ordering: .relaxed) }
    public var health: ReplicaHealth { state.withLock { $0 } }

    /// Up, not draining, breaker closed: may take new requests.
    public var isRoutable: Bool { state.withLock { $0.healthy && !$0.draining } }

    /// Whether the replica's model list has been read.
    var hasModels: Bool { state.withLock { !$0.models.isEmpty } }

    /// Engine-reported waiting requests (power of two's second signal).
    public var engineWaiting: Int { state.withLock { $0.engineWaiting } }

    /// Engine-reported running + waiting requests.
    public var engineLoad: Int { state.withLock { $0.engineRunning + $0.engineWaiting } }

    /// A draining replica takes no new requests; those in flight finish.
    public func setDraining(_ on: Bool) { state.withLock { $0.draining = on } }

    /// An active check's outcome. Returns a description when the replica went up or down.
    public func recordCheck(ok: Bool, error: String?, thresholds: HealthCheckConfiguration, now: ContinuousClock.Instant) -> String? {
        state.withLock { s in
            if ok {
                s.consecutiveFailures = 0
                s.consecutiveSuccesses += 1
                s.lastError = nil
                if let until = s.breakerOpenUntil, now < until { return nil }
                s.breakerOpenUntil = nil
                if !s.healthy && s.consecutiveSuccesses >= thresholds.healthyThreshold {
                    s.healthy = true
                    return "up (\(s.consecutiveSuccesses) successful checks)"
                }
            } else {
                s.consecutiveSuccesses = 0
                s.consecutiveFailures += 1
                s.lastError = error
                if s.healthy && s.consecutiveFailures >= thresholds.unhealthyThreshold {
                    s.healthy = false
                    return "down (\(s.consecutiveFailures) failed checks: \(error ?? "not ready"))"
                }
            }
            return nil
        }
    }

    /// A proxied request failed (connect error or 5xx): count it, and open the breaker at the threshold.
    func recordProxyFailure(_ error: String, thresholds: HealthCheckConfiguration, now: ContinuousClock.Instant) -> String? {
        state.withLock { s in
            s.consecutiveSuccesses = 0
            s.consecutiveFailures += 1
            s.lastError = error
            if s.healthy && s.consecutiveFailures >= thresholds.unhealthyThreshold {
                s.healthy = false
                s.breakerOpenUntil = now + .milliseconds(thresholds.breakerOpenMs)
                return "ejected, breaker open for \(thresholds.breakerOpenMs) ms (\(s.consecutiveFailures) failures: \(error))"
            }
            return nil
        }
    }

    func recordProxySuccess() {
        state.withLock { s in
            if s.consecutiveFailures != 0 { s.consecutiveFailures = 0 }
        }
    }

    func recordEngineMetrics(running: Int, waiting: Int, cacheUsage: Double, models: [ModelList.Model]?) {
        state.withLock { s in
            s.engineRunning = running
            s.engineWaiting = waiting
            s.cacheUsage = cacheUsage
            if let models { s.models = models }
        }
    }
}

/// A replica's health as last observed.
public struct ReplicaHealth: Sendable, Equatable {
    /// Starts down: a replica takes traffic once its first readiness check passes.
    public var healthy = false
    public var draining = false
    public var consecutiveSuccesses = 0
    public var consecutiveFailures = 0
    public var breakerOpenUntil: ContinuousClock.Instant?
    public var lastError: String?
    public var engineRunning = 0
    public var engineWaiting = 0
    public var cacheUsage = 0.0
    public var models: [ModelList.Model] = []
}
