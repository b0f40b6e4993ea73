/// The per-replica load figure that drives scaling. It is only a label carried along for display
/// and metrics: every metric is treated the same way (pool-wide demand divided by
/// `AutoscalerConfiguration.targetPerReplica` gives the replicas needed).
public enum ScalingMetric: String, Codable, Sendable, CaseIterable {
    /// Requests in flight (being processed or queued) summed over the pool.
    case inFlight = "in_flight"
    /// Requests waiting in replica or gateway queues.
    case queueDepth = "queue_depth"
    /// KV-cache occupancy (for example in blocks or as a fraction per replica).
    case kvCacheUsage = "kv_cache_usage"
    /// Generated tokens per second.
    case tokensPerSecond = "tokens_per_second"

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let m = ScalingMetric(rawValue: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "unknown metric '\(s)' (one of \(ScalingMetric.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        self = m
    }
}
