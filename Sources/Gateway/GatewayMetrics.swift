import Metrics
import ServerSupport
import Synchronization

/// The gateway's Prometheus series (swift-metrics names; the Prometheus registry renders them).
/// The per-request series are looked up in a cache of handles: making a handle goes through the
/// metrics factory (a registry lock, label arrays), which cost ~4 % of the proxy's cycles.
enum GatewayMetrics {
    static func request(route: String, status: Int, policy: String) {
        requestCounter(route: route, status: status, policy: policy).increment()
    }

    static func requestCounter(route: String, status: Int, policy: String) -> Counter {
        counters.get(Key("scalellm_gateway_requests_total", route, String(status), policy)) {
            Counter(label: "scalellm_gateway_requests_total",
                    dimensions: [("route", route), ("status", String(status)), ("policy", policy)])
        }
    }

    static func durationTimer(route: String) -> Timer {
        timers.get(Key("scalellm_gateway_request_duration_seconds", route)) {
            Timer(label: "scalellm_gateway_request_duration_seconds", dimensions: [("route", route)], preferredDisplayUnit: .seconds)
        }
    }

    static func timeToFirstByteTimer(route: String) -> Timer {
        timers.get(Key("scalellm_gateway_time_to_first_token_seconds", route)) {
            Timer(label: "scalellm_gateway_time_to_first_token_seconds", dimensions: [("route", route)], preferredDisplayUnit: .seconds)
        }
    }

    static func routingCounter(policy: RoutingPolicy, reason: String) -> Counter {
        counters.get(Key("scalellm_gateway_routing_decisions_total", policy.rawValue, reason)) {
            Counter(label: "scalellm_gateway_routing_decisions_total", dimensions: [("policy", policy.rawValue), ("reason", reason)])
        }
    }

    /// A series: its name and label values (labels come from small fixed sets, so the caches stay small).
    private struct Key: Hashable {
        let name: String, a: String, b: String, c: String
        init(_ name: String, _ a: String = "", _ b: String = "", _ c: String = "") {
            self.name = name
            self.a = a
            self.b = b
            self.c = c
        }
    }

    /// Metric handles by series, made once.
    private final class Handles<Handle: Sendable>: Sendable {
        private let made = Mutex<[Key: Handle]>([:])

        func get(_ key: Key, _ make: () -> Handle) -> Handle {
            if let h = made.withLock({ $0[key] }) { return h }
            let h = make()
            made.withLock { $0[key] = h }
            return h
        }
    }
    private static let counters = Handles<Counter>()
    private static let timers = Handles<Timer>()

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

    static func retry(reason: String) {
        counters.get(Key("scalellm_gateway_retries_total", reason)) {
            Counter(label: "scalellm_gateway_retries_total", dimensions: [("reason", reason)])
        }.increment()
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

    static func nanos(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
