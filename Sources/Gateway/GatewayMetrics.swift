import Metrics
import ServerSupport

/// The gateway's Prometheus series (swift-metrics names; the Prometheus registry renders them).
enum GatewayMetrics {
    static func request(route: String, status: Int, policy: String) {
        Counter(label: "scalellm_gateway_requests_total",
                dimensions: [("route", route), ("status", String(status)), ("policy", policy)]).increment()
    }

    static func duration(route: String, seconds: Duration) {
        Timer(label: "scalellm_gateway_request_duration_seconds", dimensions: [("route", route)],
              preferredDisplayUnit: .seconds).recordNanoseconds(nanos(seconds))
    }

    static func timeToFirstByte(route: String, seconds: Duration) {
        Timer(label: "scalellm_gateway_time_to_first_token_seconds", dimensions: [("route", route)],
              preferredDisplayUnit: .seconds).recordNanoseconds(nanos(seconds))
    }

    // Created after the Prometheus bootstrap, or they would be no-ops for the process's life.
    static let inflight = gauge("scalellm_gateway_inflight_requests")
    static let admissionQueue = gauge("scalellm_gateway_admission_queue_depth")
    static let loadLevel = gauge("scalellm_gateway_load_level")
    static let load = gauge("scalellm_gateway_load_per_replica")
    static let readyReplicas = gauge("scalellm_gateway_ready_replicas")

    private static func gauge(_ label: String) -> Gauge {
        _ = MetricsBootstrap.registry
        return Gauge(label: label)
    }

    static func levelSwitch(from: LoadLevel, to: LoadLevel) {
        Counter(label: "scalellm_gateway_load_level_switches_total",
                dimensions: [("from", from.description), ("to", to.description)]).increment()
    }

    static func routing(policy: RoutingPolicy, reason: String) {
        Counter(label: "scalellm_gateway_routing_decisions_total",
                dimensions: [("policy", policy.rawValue), ("reason", reason)]).increment()
    }

    static func retry(reason: String) {
        Counter(label: "scalellm_gateway_retries_total", dimensions: [("reason", reason)]).increment()
    }

    static func rejected(reason: String) {
        Counter(label: "scalellm_gateway_rejected_total", dimensions: [("reason", reason)]).increment()
    }

    static func replica(_ r: Replica) {
        let h = r.health
        Gauge(label: "scalellm_gateway_replica_healthy", dimensions: [("replica", r.url)]).record(h.healthy && !h.draining ? 1 : 0)
        Gauge(label: "scalellm_gateway_replica_inflight", dimensions: [("replica", r.url)]).record(r.inflight)
        Gauge(label: "scalellm_gateway_replica_engine_waiting", dimensions: [("replica", r.url)]).record(h.engineWaiting)
    }

    /// Per-pool load (the autoscaler's input).
    static func pool(_ p: PoolLoad) {
        let d = [("pool", p.pool)]
        Gauge(label: "scalellm_gateway_pool_demand", dimensions: d).record(p.demand)
        Gauge(label: "scalellm_gateway_pool_inflight", dimensions: d).record(p.inflight)
        Gauge(label: "scalellm_gateway_pool_ready_replicas", dimensions: d).record(p.readyReplicas)
        Gauge(label: "scalellm_gateway_pool_replicas", dimensions: d).record(p.replicas)
        Gauge(label: "scalellm_gateway_pool_engine_waiting", dimensions: d).record(p.engineWaiting)
        Gauge(label: "scalellm_gateway_pool_kv_cache_usage", dimensions: d).record(p.kvCacheUsage)
        Gauge(label: "scalellm_gateway_pool_held_for_cold_start", dimensions: d).record(p.heldForColdStart)
    }

    private static func nanos(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
