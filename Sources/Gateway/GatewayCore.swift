import Foundation
import Logging
import Synchronization

/// The gateway's shared state: replicas, router, load level, admission queue, limits. Everything
/// a request touches is an atomic or a short lock; there is no actor hop on the request path.
public final class GatewayCore: Sendable {
    public let configuration: GatewayConfiguration
    public let pool: ReplicaPool
    public let router: RequestRouter
    public let admission: AdmissionQueue
    public let limiter: RateLimiter
    public let keys: APIKeys
    let logger: Logger
    private let tracker: Mutex<LoadLevelTracker>
    private let lastLoad = Mutex<Double>(0)
    public let totalInflight = Atomic<Int>(0)
    /// Requests held while no replica is ready (cold start); demand the autoscaler must see.
    public let waitingForReplica = Atomic<Int>(0)

    public init(configuration: GatewayConfiguration, keys: APIKeys = APIKeys(keys: []), logger: Logger = Logger(label: "scalellm.gateway")) throws {
        try configuration.validate()
        self.configuration = configuration
        pool = try ReplicaPool(configuration.backends)
        router = RequestRouter(configuration: configuration.routing)
        admission = AdmissionQueue(capacity: configuration.admission.queueSize)
        limiter = RateLimiter(requestsPerMinute: configuration.limits.requestsPerMinute,
                              tokensPerMinute: configuration.limits.tokensPerMinute)
        tracker = Mutex(LoadLevelTracker(configuration: configuration.loadLevels))
        self.keys = keys
        self.logger = logger
        GatewayMetrics.loadLevel.record(LoadLevel.low.rawValue)
    }

    public var level: LoadLevel { tracker.withLock { $0.level } }
    public var load: Double { lastLoad.withLock { $0 } }
    public var inflight: Int { totalInflight.load(ordering: .relaxed) }

    /// The policy a level routes with (a fixed `routing.policy` wins).
    public func policy(for level: LoadLevel) -> RoutingPolicy {
        configuration.routing.policy ?? configuration.loadLevels.settings(level).policy
    }

    /// Recomputes the load (per ready replica: the larger of the gateway's in-flight requests and
    /// the engines' running + waiting) and moves the level; logs and counts a switch.
    @discardableResult
    public func updateLoad(ready: [Replica]? = nil, now: ContinuousClock.Instant = .now) -> LoadLevel {
        let ready = ready ?? pool.routable
        let n = Double(max(ready.count, 1))
        let gatewayLoad = Double(totalInflight.load(ordering: .relaxed)) / n
        let engineLoad = Double(ready.reduce(0) { $0 + $1.engineLoad }) / n
        let load = max(gatewayLoad, engineLoad)
        lastLoad.withLock { $0 = load }
        let (level, change) = tracker.withLock { t in
            let c = t.update(load: load, now: now)
            return (t.level, c)
        }
        if let change {
            logger.notice("\(change); routing with \(policy(for: change.to).rawValue)")
            GatewayMetrics.levelSwitch(from: change.from, to: change.to)
            GatewayMetrics.loadLevel.record(level.rawValue)
        }
        GatewayMetrics.load.record(load)
        return level
    }

    /// Load per pool, the autoscaler's input. Requests held for a cold start count as demand of every
    /// pool that has no ready replica.
    public func poolLoads() -> [PoolLoad] {
        let replicas = pool.all
        var names = replicas.map(\.pool)
        names += configuration.backends.map(\.pool)
        var seen = Set<String>()
        let pools = names.filter { seen.insert($0).inserted }
        let held = waitingForReplica.load(ordering: .relaxed)
        return pools.map { name in
            let members = replicas.filter { $0.pool == name }
            var p = PoolLoad(pool: name)
            p.replicas = members.count
            for r in members {
                let h = r.health
                if r.isRoutable { p.readyReplicas += 1 }
                p.inflight += r.inflight
                p.engineRunning += h.engineRunning
                p.engineWaiting += h.engineWaiting
                p.kvCacheUsage += h.cacheUsage
            }
            if p.readyReplicas == 0 { p.heldForColdStart = held }
            return p
        }
    }

    /// Routable replicas, narrowed to one tensor-parallel pool when several degrees are up: the
    /// highest degree below the switch point (latency), the lowest at or above it (throughput).
    public func candidates(from snapshot: [Replica]? = nil, excluding tried: Set<String> = []) -> [Replica] {
        var ready = snapshot ?? pool.routable
        if !tried.isEmpty { ready.removeAll { tried.contains($0.url) } }
        guard let first = ready.first, ready.contains(where: { $0.tensorParallel != first.tensorParallel }) else { return ready }
        let concurrent = totalInflight.load(ordering: .relaxed)
        let degree = concurrent < configuration.loadLevels.tpSwitchPoint
            ? ready.map(\.tensorParallel).max()! : ready.map(\.tensorParallel).min()!
        return ready.filter { $0.tensorParallel == degree }
    }

    /// Counts a request in flight to `replica` until the lease is released.
    func lease(_ replica: Replica) -> InflightLease {
        replica.inflightCounter.add(1, ordering: .relaxed)
        let total = totalInflight.add(1, ordering: .relaxed).newValue
        GatewayMetrics.inflight.record(total)
        return InflightLease(core: self, replica: replica)
    }

    func released(_ replica: Replica) {
        replica.inflightCounter.subtract(1, ordering: .relaxed)
        let total = totalInflight.subtract(1, ordering: .relaxed).newValue
        GatewayMetrics.inflight.record(total)
        admission.signal()
    }

    func proxyFailure(_ replica: Replica, _ error: String) {
        if let change = replica.recordProxyFailure(error, thresholds: configuration.healthCheck, now: .now) {
            logger.warning("replica \(replica.url) \(change)")
        }
    }

    /// Adds a replica at run time.
    public func addReplica(_ backend: BackendConfiguration) throws -> Replica {
        let r = try pool.add(backend)
        logger.notice("replica \(r.url) added (pool \(r.pool), tp \(r.tensorParallel))")
        return r
    }

    /// Removes a replica at run time (in-flight requests finish).
    public func removeReplica(_ url: String) -> Bool {
        guard pool.remove(url) else { return false }
        router.forget(url)
        logger.notice("replica \(url) removed")
        return true
    }
}

/// A request counted in flight on a replica; released exactly once (explicitly or at deinit).
final class InflightLease: Sendable {
    private let core: GatewayCore
    let replica: Replica
    private let done = Atomic<Bool>(false)

    init(core: GatewayCore, replica: Replica) {
        self.core = core
        self.replica = replica
    }

    func release() {
        if !done.exchange(true, ordering: .relaxed) { core.released(replica) }
    }

    deinit { release() }
}
