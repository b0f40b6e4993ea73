/// The load of one pool of replicas as the gateway sees it (`/status` → `pools`, and the
/// `scalellm_gateway_pool_*` metrics): what an autoscaler scales on.
public struct PoolLoad: Encodable, Sendable, Equatable {
    public var pool: String
    /// Replicas in the gateway's pool (any state) and those taking requests.
    public var replicas = 0
    public var readyReplicas = 0
    /// Requests the gateway has in flight to the pool.
    public var inflight = 0
    /// The engines' own running and waiting requests and summed KV-cache use (fractions).
    public var engineRunning = 0
    public var engineWaiting = 0
    public var kvCacheUsage = 0.0
    /// Requests held for a cold start (the pool has no ready replica).
    public var heldForColdStart = 0

    public init(pool: String) { self.pool = pool }

    /// Total in-flight demand: requests in flight plus those held for a replica to come up.
    public var demand: Int { inflight + heldForColdStart }

    enum CodingKeys: String, CodingKey {
        case pool, replicas, inflight, demand
        case readyReplicas = "ready_replicas", engineRunning = "engine_running", engineWaiting = "engine_waiting"
        case kvCacheUsage = "kv_cache_usage", heldForColdStart = "held_for_cold_start"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pool, forKey: .pool)
        try c.encode(replicas, forKey: .replicas)
        try c.encode(readyReplicas, forKey: .readyReplicas)
        try c.encode(inflight, forKey: .inflight)
        try c.encode(heldForColdStart, forKey: .heldForColdStart)
        try c.encode(demand, forKey: .demand)
        try c.encode(engineRunning, forKey: .engineRunning)
        try c.encode(engineWaiting, forKey: .engineWaiting)
        try c.encode(kvCacheUsage, forKey: .kvCacheUsage)
    }
}
