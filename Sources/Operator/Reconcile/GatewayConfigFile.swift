import Yams

/// The gateway.yaml the operator writes into the gateway's ConfigMap: listen on all interfaces, find
/// engine pods through Kubernetes discovery, and the LLMService's load levels and rate limits.
struct GatewayConfigFile: Encodable {
    struct Discovery: Encodable {
        struct KubernetesDiscovery: Encodable {
            var namespace: String
            var labelSelector: String
            var poolLabel: String
            var tensorParallelLabel: String
            var portName: String
            enum CodingKeys: String, CodingKey {
                case namespace, labelSelector = "label_selector", poolLabel = "pool_label"
                case tensorParallelLabel = "tensor_parallel_label", portName = "port_name"
            }
        }
        var kubernetes: KubernetesDiscovery
    }
    struct Level: Encodable {
        var policy: String
        var enterAt: Double
        var exitAt: Double
        enum CodingKeys: String, CodingKey { case policy, enterAt = "enter_at", exitAt = "exit_at" }
    }
    struct LoadLevels: Encodable {
        var medium: Level
        var high: Level
        var tpSwitchPoint: Int
        enum CodingKeys: String, CodingKey { case medium, high, tpSwitchPoint = "tp_switch_point" }
    }
    struct Limits: Encodable {
        var requestsPerMinute: Int
        var tokensPerMinute: Int
        enum CodingKeys: String, CodingKey { case requestsPerMinute = "requests_per_minute", tokensPerMinute = "tokens_per_minute" }
    }

    struct Admission: Encodable {
        var coldStartTimeoutMs: Int
        enum CodingKeys: String, CodingKey { case coldStartTimeoutMs = "cold_start_timeout_ms" }
    }

    var host = "0.0.0.0"
    var port = Defaults.gatewayPort
    var discovery: Discovery
    var loadLevels: LoadLevels
    var limits: Limits
    /// Holds requests while a pool scaled to zero starts its first replica.
    var admission: Admission?
    enum CodingKeys: String, CodingKey { case host, port, discovery, loadLevels = "load_levels", limits, admission }

    init(service: LLMService) {
        let name = service.metadata.name ?? ""
        discovery = Discovery(kubernetes: .init(
            namespace: service.metadata.namespace ?? "default", labelSelector: Labels.enginesSelector(name),
            poolLabel: Labels.pool, tensorParallelLabel: Labels.tensorParallel, portName: "http"))
        let l = service.spec.gateway?.loadLevels
        loadLevels = LoadLevels(
            medium: Level(policy: "power_of_two", enterAt: l?.mediumEnterAt ?? 4, exitAt: l?.mediumExitAt ?? 2),
            high: Level(policy: "least_outstanding", enterAt: l?.highEnterAt ?? 32, exitAt: l?.highExitAt ?? 24),
            tpSwitchPoint: l?.tpSwitchPoint ?? 64)
        let r = service.spec.gateway?.rateLimits
        limits = Limits(requestsPerMinute: r?.requestsPerMinute ?? 0, tokensPerMinute: r?.tokensPerMinute ?? 0)
        if service.spec.autoscaling?.scaleToZero == true { admission = Admission(coldStartTimeoutMs: 120_000) }
    }

    var yaml: String { (try? YAMLEncoder().encode(self)) ?? "" }
}
