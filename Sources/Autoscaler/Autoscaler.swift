/// A pure replica autoscaler in the style of Knative's KPA (stable and panic windows), with
/// HPA-style tolerance, scale-down stabilization and rate limits.
///
/// Feed it pool-wide demand with `record(_:)` at a steady cadence (for example once a second)
/// and ask `decide(now:currentReplicas:readyReplicas:)` for the replica count whenever a scaling
/// decision is due. It reads no clock and does no I/O: all times are seconds on the caller's
/// monotonic clock, so tests drive it with synthetic traces.
///
/// Each decision:
/// 1. Averages demand over the stable and the panic window (time-weighted, zero-order hold: a
///    sample's value holds until the next sample). No sample within the stable window means no
///    data: the current count is kept (only clamped to min/max).
/// 2. `desiredStable = ceil(stableDemand / target)`, `desiredPanic = ceil(panicDemand / target)`.
/// 3. Panic starts when `readyReplicas > 0` and `desiredPanic / readyReplicas ≥ panicThreshold`,
///    or when nothing is ready and there is demand (then the newest sample counts too, so a
///    request arriving at an empty pool scales from zero at once). Panic ends after `panicHold`
///    seconds without that condition. In panic: `desired = max(desiredPanic, current)`.
/// 4. Otherwise: `desired = desiredStable`, unless the stable demand is within `tolerance` of the
///    current capacity, in which case `desired = current`.
/// 5. The result is recorded as a recommendation; a scale-down goes only to the largest
///    recommendation within `scaleDownStabilization` seconds (never above current).
/// 6. Rate limits, then the min/max clamp, then the zero rules: never below 1 unless
///    `scaleToZero`, `minReplicas == 0` and the demand has been exactly 0 for
///    `scaleToZeroGracePeriod` seconds (or the pool is already at zero).
public struct Autoscaler: Sendable {
    /// Largest replica count the autoscaler will ever return (guards conversions from Double).
    public static let replicaLimit = 1_000_000
    /// Hard cap on buffered samples, whatever their rate (the time bound is `sampleRetention`).
    public static let maxBufferedSamples = 65_536
    /// Hard cap on buffered recommendations, whatever the decision rate.
    public static let maxBufferedRecommendations = 65_536

    /// The settings this autoscaler was made with (validate them first; invalid values give
    /// unspecified but non-crashing decisions).
    public let configuration: AutoscalerConfiguration
    private var demand: DemandHistory
    private var recommendations: RecommendationHistory
    /// When the last overload (panic condition) was seen; nil when not in panic.
    private var lastOverloadAt: Double?

    public init(configuration: AutoscalerConfiguration = AutoscalerConfiguration()) {
        self.configuration = configuration
        demand = DemandHistory(retention: configuration.sampleRetention, capacity: Self.maxBufferedSamples)
        recommendations = RecommendationHistory(capacity: Self.maxBufferedRecommendations)
    }

    /// Whether the last decision left the autoscaler in panic mode.
    public var inPanic: Bool { lastOverloadAt != nil }
    /// Samples currently buffered (bounded by time and by `maxBufferedSamples`).
    public var bufferedSampleCount: Int { demand.count }
    /// Recommendations currently buffered for the stabilization window.
    public var bufferedRecommendationCount: Int { recommendations.count }

    /// Adds a demand sample. Samples may arrive slightly out of order; non-finite ones are ignored,
    /// negative demand counts as 0. Samples older than `configuration.sampleRetention` before the
    /// newest are dropped.
    public mutating func record(_ sample: LoadSample) {
        demand.append(sample)
    }

    /// Decides how many replicas the pool should run at `now`.
    /// - Parameters:
    ///   - currentReplicas: replicas requested so far (running or starting).
    ///   - readyReplicas: replicas ready to serve.
    public mutating func decide(now: Double, currentReplicas: Int, readyReplicas: Int) -> ScaleDecision {
        let c = configuration
        let current = min(max(0, currentReplicas), Self.replicaLimit)
        let ready = min(max(0, readyReplicas), Self.replicaLimit)
        demand.prune(now: now)
        recommendations.prune(before: now - c.scaleDownStabilization)

        guard demand.hasSample(from: now - c.stableWindow, through: now),
              let stableDemand = demand.average(over: c.stableWindow, now: now),
              let panicDemand = demand.average(over: c.panicWindow, now: now) else {
            if let last = lastOverloadAt, now - last >= c.panicHold { lastOverloadAt = nil }
            var notes: [String] = []
            let desired = applyBounds(current, current: current, now: now, notes: &notes)
            let base = "no data in the last \(formatSeconds(c.stableWindow)); keeping \(formatReplicas(current))"
            return ScaleDecision(desiredReplicas: desired, inPanic: inPanic, stableDemand: 0, panicDemand: 0,
                                 reason: ([base] + notes).joined(separator: "; "))
        }

        let target = c.targetPerReplica
        let latestDemand = demand.latest(atOrBefore: now)?.demand ?? 0
        // With nothing ready, any demand at all (even one sample old) calls for a replica now.
        let burstDemand = ready == 0 ? max(panicDemand, latestDemand) : panicDemand
        let desiredStable = Self.replicas(stableDemand / target)
        let desiredPanic = Self.replicas(burstDemand / target)
        let overloaded = ready > 0
            ? Double(desiredPanic) / Double(ready) >= c.panicThreshold
            : burstDemand > 0
        if overloaded {
            lastOverloadAt = now
        } else if let last = lastOverloadAt, now - last >= c.panicHold {
            lastOverloadAt = nil
        }

        // The recommendation, before stabilization, rate limits and clamps.
        let recommendation: Int
        let base: String
        if let last = lastOverloadAt {
            recommendation = max(desiredPanic, current)
            if overloaded && ready == 0 {
                base = current == 0
                    ? "scale from zero: demand \(formatNumber(burstDemand)) with no replicas"
                    : "panic: demand \(formatNumber(burstDemand)) with no ready replicas (\(current) starting)"
            } else if overloaded {
                let ratio = Double(desiredPanic) / Double(ready)
                base = "panic: demand \(formatNumber(panicDemand)) in \(formatSeconds(c.panicWindow)) window is "
                    + "\(formatNumber(ratio))x capacity of \(formatReplicas(ready))"
            } else {
                base = "panic: never scaling down until \(formatSeconds(c.panicHold)) without overload "
                    + "(last seen \(formatSeconds(now - last)) ago)"
            }
        } else {
            let needed = stableDemand / target
            let stableText = "stable demand \(formatNumber(stableDemand)) over \(formatSeconds(c.stableWindow))"
            if current > 0, abs(needed / Double(current) - 1) <= c.tolerance + 1e-9 {
                recommendation = current
                base = "within tolerance: \(stableText) is \(formatNumber(needed / Double(current) * 100))% "
                    + "of the target for \(formatReplicas(current))"
            } else {
                recommendation = desiredStable
                let verb = desiredStable > current ? "scale up" : desiredStable < current ? "scale down" : "steady"
                base = "\(verb): \(stableText) needs \(formatReplicas(desiredStable))"
            }
        }
        recommendations.append(time: now, replicas: recommendation)

        var notes: [String] = []
        var desired = recommendation
        // HPA-style scale-down stabilization: go only to the largest recent recommendation.
        if desired < current, let highest = recommendations.maximum(since: now - c.scaleDownStabilization) {
            let held = min(current, highest)
            if held > desired {
                desired = held
                notes.append("scale-down \(held == current ? "held" : "limited") by stabilization window "
                    + "(max recommendation \(highest) in the last \(formatSeconds(c.scaleDownStabilization)))")
            }
        }
        // Rate limits.
        if desired > current {
            let cap = max(Self.replicas(Double(max(ready, 1)) * c.maxScaleUpRate), ready + 1)
            if desired > max(cap, current) {
                desired = max(cap, current)
                notes.append("capped by max scale-up rate (at most \(desired) from \(ready) ready)")
            }
        } else if desired < current {
            let floorCount = Self.replicas((Double(current) / c.maxScaleDownRate).rounded(.down))
            if desired < floorCount {
                desired = floorCount
                notes.append("limited by max scale-down rate (at least \(floorCount) from \(current))")
            }
        }
        desired = applyBounds(desired, current: current, now: now, notes: &notes)
        return ScaleDecision(desiredReplicas: desired, inPanic: inPanic, stableDemand: stableDemand,
                             panicDemand: panicDemand, reason: ([base] + notes).joined(separator: "; "))
    }

    /// The min/max clamp, then the zero rules.
    private func applyBounds(_ proposed: Int, current: Int, now: Double, notes: inout [String]) -> Int {
        let c = configuration
        var desired = proposed
        if desired < c.minReplicas {
            desired = c.minReplicas
            notes.append("raised to minReplicas \(c.minReplicas)")
        }
        if desired > c.maxReplicas {
            desired = max(c.maxReplicas, 0)
            notes.append("clamped to maxReplicas \(desired)")
        }
        guard desired <= 0 else { return desired }
        guard c.scaleToZero, c.minReplicas <= 0 else {
            notes.append("kept at 1 replica: scale to zero is disabled")
            return 1
        }
        guard current > 0 else { return 0 }  // already at zero with no demand: stay there
        let idleFor = demand.idleSince(now: now).map { now - $0 } ?? 0
        guard idleFor >= c.scaleToZeroGracePeriod else {
            notes.append("kept at 1 replica until demand has been 0 for \(formatSeconds(c.scaleToZeroGracePeriod)) "
                + "(idle for \(formatSeconds(max(0, idleFor))))")
            return 1
        }
        notes.append("scale to zero after \(formatSeconds(c.scaleToZeroGracePeriod)) idle")
        return 0
    }

    /// `ceil(x)` as a replica count in `0...replicaLimit` (NaN counts as 0).
    static func replicas(_ x: Double) -> Int {
        guard x > 0 else { return 0 }
        return Int(min(x.rounded(.up), Double(replicaLimit)))
    }
}
