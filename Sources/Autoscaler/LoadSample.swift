/// One observation of pool-wide demand: the scaling metric summed over all replicas (for example
/// the total number of in-flight requests) at `time`, in seconds on a monotonic clock.
public struct LoadSample: Sendable, Equatable {
    /// Seconds on the caller's monotonic clock (any origin; only differences matter).
    public var time: Double
    /// Total demand across the pool, in units of the scaling metric. Negative values are treated as 0.
    public var demand: Double

    public init(time: Double, demand: Double) {
        self.time = time
        self.demand = demand
    }
}
