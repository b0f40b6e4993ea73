/// Settings of the `Autoscaler`: a Knative-KPA-style stable/panic window pair with HPA-style
/// tolerance, scale-down stabilization and rate limits. Times are in seconds. Keys in
/// configuration files are snake_case and every field has a default, so a file names only what
/// it changes. Decoding does not validate; call `validate()` afterwards.
public struct AutoscalerConfiguration: Sendable, Equatable, Codable {
    /// Target value of the metric per ready replica (default: 8 in-flight requests per replica).
    public var targetPerReplica: Double = 8
    /// Which metric the demand is measured in (a label only; see `ScalingMetric`).
    public var metric: ScalingMetric = .inFlight
    /// Length of the window averaged for normal (stable) decisions.
    public var stableWindow: Double = 60
    /// Length of the short window averaged to detect and follow bursts (panic mode).
    public var panicWindow: Double = 6
    /// Panic starts when the panic-window demand needs at least this many times the ready
    /// replicas (`desiredPanic / readyReplicas >= panicThreshold`).
    public var panicThreshold: Double = 2.0
    /// Relative deviation from the target within which the replica count is left alone:
    /// no change when `|stableDemand / (target × current) − 1| ≤ tolerance`.
    public var tolerance: Double = 0.1
    /// Scale-down goes only to the largest recommendation seen within this many seconds (HPA-style).
    public var scaleDownStabilization: Double = 300
    /// One decision may raise the count to at most `ceil(max(ready, 1) × rate)`, and always by at least 1.
    public var maxScaleUpRate: Double = 10
    /// One decision may lower the count to no less than `floor(current / rate)`.
    public var maxScaleDownRate: Double = 2
    /// Fewest replicas to run; 0 allows scaling to zero when `scaleToZero` is also set.
    public var minReplicas: Int = 1
    /// Most replicas to run.
    public var maxReplicas: Int = 10
    /// Allow scaling to zero replicas (needs `minReplicas == 0` too).
    public var scaleToZero: Bool = false
    /// Scale to zero only after the demand has been exactly 0 for this many seconds.
    public var scaleToZeroGracePeriod: Double = 30

    /// Panic mode ends once no overload has been seen for this long; equal to `stableWindow`, as in KPA.
    public var panicHold: Double { stableWindow }

    /// How far back the autoscaler keeps load samples:
    /// `max(stableWindow, scaleDownStabilization, scaleToZeroGracePeriod)`.
    public var sampleRetention: Double { max(stableWindow, scaleDownStabilization, scaleToZeroGracePeriod) }

    public init(targetPerReplica: Double = 8, metric: ScalingMetric = .inFlight,
                stableWindow: Double = 60, panicWindow: Double = 6, panicThreshold: Double = 2.0,
                tolerance: Double = 0.1, scaleDownStabilization: Double = 300,
                maxScaleUpRate: Double = 10, maxScaleDownRate: Double = 2,
                minReplicas: Int = 1, maxReplicas: Int = 10,
                scaleToZero: Bool = false, scaleToZeroGracePeriod: Double = 30) {
        self.targetPerReplica = targetPerReplica
        self.metric = metric
        self.stableWindow = stableWindow
        self.panicWindow = panicWindow
        self.panicThreshold = panicThreshold
        self.tolerance = tolerance
        self.scaleDownStabilization = scaleDownStabilization
        self.maxScaleUpRate = maxScaleUpRate
        self.maxScaleDownRate = maxScaleDownRate
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.scaleToZero = scaleToZero
        self.scaleToZeroGracePeriod = scaleToZeroGracePeriod
    }

    enum CodingKeys: String, CodingKey {
        case metric, tolerance
        case targetPerReplica = "target_per_replica"
        case stableWindow = "stable_window", panicWindow = "panic_window", panicThreshold = "panic_threshold"
        case scaleDownStabilization = "scale_down_stabilization"
        case maxScaleUpRate = "max_scale_up_rate", maxScaleDownRate = "max_scale_down_rate"
        case minReplicas = "min_replicas", maxReplicas = "max_replicas"
        case scaleToZero = "scale_to_zero", scaleToZeroGracePeriod = "scale_to_zero_grace_period"
    }

    // Each key is decoded with its concrete type (Yams reports wrong scalars only through the
    // concrete overloads); a missing key keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        targetPerReplica = try c.decodeIfPresent(Double.self, forKey: .targetPerReplica) ?? targetPerReplica
        metric = try c.decodeIfPresent(ScalingMetric.self, forKey: .metric) ?? metric
        stableWindow = try c.decodeIfPresent(Double.self, forKey: .stableWindow) ?? stableWindow
        panicWindow = try c.decodeIfPresent(Double.self, forKey: .panicWindow) ?? panicWindow
        panicThreshold = try c.decodeIfPresent(Double.self, forKey: .panicThreshold) ?? panicThreshold
        tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? tolerance
        scaleDownStabilization = try c.decodeIfPresent(Double.self, forKey: .scaleDownStabilization) ?? scaleDownStabilization
        maxScaleUpRate = try c.decodeIfPresent(Double.self, forKey: .maxScaleUpRate) ?? maxScaleUpRate
        maxScaleDownRate = try c.decodeIfPresent(Double.self, forKey: .maxScaleDownRate) ?? maxScaleDownRate
        minReplicas = try c.decodeIfPresent(Int.self, forKey: .minReplicas) ?? minReplicas
        maxReplicas = try c.decodeIfPresent(Int.self, forKey: .maxReplicas) ?? maxReplicas
        scaleToZero = try c.decodeIfPresent(Bool.self, forKey: .scaleToZero) ?? scaleToZero
        scaleToZeroGracePeriod = try c.decodeIfPresent(Double.self, forKey: .scaleToZeroGracePeriod) ?? scaleToZeroGracePeriod
    }

    /// Rejects values that make no sense; the error names the first offending field.
    public func validate() throws {
        func fail(_ field: String, _ key: CodingKeys, _ message: String) -> AutoscalerConfigurationError {
            AutoscalerConfigurationError(field: field, key: key.rawValue, message: message)
        }
        func n(_ x: Double) -> String { formatNumber(x) }

        guard targetPerReplica.isFinite, targetPerReplica > 0 else {
            throw fail("targetPerReplica", .targetPerReplica, "must be a positive number (got \(n(targetPerReplica)))")
        }
        guard stableWindow.isFinite, stableWindow > 0 else {
            throw fail("stableWindow", .stableWindow, "must be a positive number of seconds (got \(n(stableWindow)))")
        }
        guard panicWindow.isFinite, panicWindow > 0 else {
            throw fail("panicWindow", .panicWindow, "must be a positive number of seconds (got \(n(panicWindow)))")
        }
        guard panicWindow <= stableWindow else {
            throw fail("panicWindow", .panicWindow, "must not exceed stable_window (\(n(panicWindow)) > \(n(stableWindow)))")
        }
        guard panicThreshold.isFinite, panicThreshold > 1 else {
            throw fail("panicThreshold", .panicThreshold, "must be greater than 1 (got \(n(panicThreshold)))")
        }
        guard tolerance >= 0, tolerance < 1 else {
            throw fail("tolerance", .tolerance, "must be at least 0 and less than 1 (got \(n(tolerance)))")
        }
        guard scaleDownStabilization.isFinite, scaleDownStabilization >= 0 else {
            throw fail("scaleDownStabilization", .scaleDownStabilization, "must be a non-negative number of seconds (got \(n(scaleDownStabilization)))")
        }
        guard maxScaleUpRate.isFinite, maxScaleUpRate >= 1 else {
            throw fail("maxScaleUpRate", .maxScaleUpRate, "must be at least 1 (got \(n(maxScaleUpRate)))")
        }
        guard maxScaleDownRate.isFinite, maxScaleDownRate >= 1 else {
            throw fail("maxScaleDownRate", .maxScaleDownRate, "must be at least 1 (got \(n(maxScaleDownRate)))")
        }
        guard minReplicas >= 0 else {
            throw fail("minReplicas", .minReplicas, "must not be negative (got \(minReplicas))")
        }
        guard maxReplicas >= 1, maxReplicas <= Autoscaler.replicaLimit else {
            throw fail("maxReplicas", .maxReplicas, "must be between 1 and \(Autoscaler.replicaLimit) (got \(maxReplicas))")
        }
        guard minReplicas <= maxReplicas else {
            throw fail("minReplicas", .minReplicas, "must not exceed max_replicas (\(minReplicas) > \(maxReplicas))")
        }
        guard scaleToZeroGracePeriod.isFinite, scaleToZeroGracePeriod >= 0 else {
            throw fail("scaleToZeroGracePeriod", .scaleToZeroGracePeriod, "must be a non-negative number of seconds (got \(n(scaleToZeroGracePeriod)))")
        }
    }
}
