/// One `Autoscaler` per pool of replicas, made when a pool is first configured and remade when its
/// configuration changes (its history is then dropped). Pure, like `Autoscaler`: the caller brings
/// the time, the demand and the replica counts, and acts on the decisions.
public struct PoolAutoscalers: Sendable {
    private var scalers: [String: Autoscaler] = [:]

    public init() {}

    /// Pools currently configured.
    public var pools: [String] { scalers.keys.sorted() }

    /// Sets a pool's configuration (validate it first).
    public mutating func configure(pool: String, _ configuration: AutoscalerConfiguration) {
        if scalers[pool]?.configuration != configuration {
            scalers[pool] = Autoscaler(configuration: configuration)
        }
    }

    /// Forgets pools that are not in `keep`.
    public mutating func retain(_ keep: Set<String>) {
        scalers = scalers.filter { keep.contains($0.key) }
    }

    /// Records the pool's demand at `now` and decides its replica count; nil for an unknown pool.
    public mutating func step(pool: String, now: Double, demand: Double, currentReplicas: Int,
                              readyReplicas: Int) -> ScaleDecision? {
        guard var scaler = scalers[pool] else { return nil }
        scaler.record(LoadSample(time: now, demand: demand))
        let decision = scaler.decide(now: now, currentReplicas: currentReplicas, readyReplicas: readyReplicas)
        scalers[pool] = scaler
        return decision
    }
}
