/// What `Autoscaler.decide(now:currentReplicas:readyReplicas:)` recommends, and why.
public struct ScaleDecision: Sendable, Equatable {
    /// The replica count to run (already limited by rates, clamped to min/max and the zero rules).
    public var desiredReplicas: Int
    /// Whether the autoscaler is in panic mode (scaling on the short window, never scaling down).
    public var inPanic: Bool
    /// Time-weighted mean demand over the stable window (0 when there was no data).
    public var stableDemand: Double
    /// Time-weighted mean demand over the panic window (0 when there was no data).
    public var panicDemand: Double
    /// A human-readable explanation: the base decision, then every limit that changed it, joined by "; ".
    public var reason: String

    public init(desiredReplicas: Int, inPanic: Bool, stableDemand: Double, panicDemand: Double, reason: String) {
        self.desiredReplicas = desiredReplicas
        self.inPanic = inPanic
        self.stableDemand = stableDemand
        self.panicDemand = panicDemand
        self.reason = reason
    }
}
