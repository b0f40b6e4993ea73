import Foundation

/// Decides the load level from a load figure with hysteresis: a level is entered at its `enter_at`
/// and left only below its `exit_at`. Going up happens at once (saturation needs admission control
/// now); going down waits `min_dwell_ms` after the last switch so the level does not flap.
public struct LoadLevelTracker: Sendable {
    public let configuration: LoadLevelConfiguration
    public private(set) var level: LoadLevel = .low
    private var lastSwitch: ContinuousClock.Instant?

    public init(configuration: LoadLevelConfiguration) {
        self.configuration = configuration
    }

    /// A switch: from, to, and why.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public let from: LoadLevel
        public let to: LoadLevel
        public let reason: String
        public var description: String { "load level \(from) -> \(to): \(reason)" }
    }

    /// Feeds the current load (requests per ready replica); returns the switch if one happened.
    public mutating func update(load: Double, now: ContinuousClock.Instant = .now) -> Change? {
        let c = configuration
        var target = level
        var reason = ""
        switch level {
        case .low:
            if load >= c.high.enterAt {
                target = .high; reason = "load \(fmt(load)) per replica >= high.enter_at \(fmt(c.high.enterAt))"
            } else if load >= c.medium.enterAt {
                target = .medium; reason = "load \(fmt(load)) per replica >= medium.enter_at \(fmt(c.medium.enterAt))"
            }
        case .medium:
            if load >= c.high.enterAt {
                target = .high; reason = "load \(fmt(load)) per replica >= high.enter_at \(fmt(c.high.enterAt))"
            } else if load < c.medium.exitAt {
                target = .low; reason = "load \(fmt(load)) per replica < medium.exit_at \(fmt(c.medium.exitAt))"
            }
        case .high:
            if load < c.high.exitAt {
                if load < c.medium.exitAt {
                    target = .low; reason = "load \(fmt(load)) per replica < medium.exit_at \(fmt(c.medium.exitAt))"
                } else {
                    target = .medium; reason = "load \(fmt(load)) per replica < high.exit_at \(fmt(c.high.exitAt))"
                }
            }
        }
        guard target != level else { return nil }
        if target < level, let last = lastSwitch, now - last < .milliseconds(c.minDwellMs) { return nil }
        let change = Change(from: level, to: target, reason: reason)
        level = target
        lastSwitch = now
        return change
    }

    private func fmt(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%.2f", x)
    }
}
