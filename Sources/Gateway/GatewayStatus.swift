/// `GET /status`: the load level, its policy, the load figure, queues and every replica.
struct GatewayStatus: Encodable {
    var level: String
    var policy: String
    var load: Double
    var inflight: Int
    var admissionQueue: Int
    var waitingForReplica: Int
    var pools: [PoolLoad]
    var replicas: [ReplicaStatus]

    enum CodingKeys: String, CodingKey {
        case level, policy, load, inflight, replicas, pools, admissionQueue = "admission_queue"
        case waitingForReplica = "waiting_for_replica"
    }

    init(_ core: GatewayCore) {
        let l = core.level
        level = l.description
        policy = core.policy(for: l).rawValue
        load = core.load
        inflight = core.inflight
        admissionQueue = core.admission.depth
        waitingForReplica = core.waitingForReplica.load(ordering: .relaxed)
        pools = core.poolLoads()
        replicas = core.pool.all.map(ReplicaStatus.init)
    }
}

/// One replica in `/status` and `/admin/replicas`.
struct ReplicaStatus: Encodable {
    var url: String
    var pool: String
    var tensorParallel: Int
    var healthy: Bool
    var draining: Bool
    var inflight: Int
    var engineRunning: Int
    var engineWaiting: Int
    var kvCacheUsage: Double
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case url, pool, healthy, draining, inflight
        case tensorParallel = "tensor_parallel", engineRunning = "engine_running", engineWaiting = "engine_waiting"
        case kvCacheUsage = "kv_cache_usage", lastError = "last_error"
    }

    init(_ r: Replica) {
        let h = r.health
        url = r.url
        pool = r.pool
        tensorParallel = r.tensorParallel
        healthy = h.healthy
        draining = h.draining
        inflight = r.inflight
        engineRunning = h.engineRunning
        engineWaiting = h.engineWaiting
        kvCacheUsage = h.cacheUsage
        lastError = h.lastError
    }
}
