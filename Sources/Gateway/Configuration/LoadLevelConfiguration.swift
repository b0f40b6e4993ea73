/// The load levels and the policy each one routes with (the paper's dynamic routing). Load is the
/// larger of the gateway's in-flight requests per ready replica and the engines' own running +
/// waiting requests per replica (from their /metrics). A level is entered at `enter_at` and left
/// only below `exit_at` (hysteresis), and never sooner than `min_dwell_ms` after the last switch.
public struct LoadLevelConfiguration: Codable, Sendable, Equatable {
    public var low = LevelSettings(policy: .prefixAffinity)
    public var medium = LevelSettings(policy: .powerOfTwo, enterAt: 4, exitAt: 2)
    public var high = LevelSettings(policy: .leastOutstanding, enterAt: 32, exitAt: 24)
    public var minDwellMs: Int = 1000
    /// Below this many concurrent requests prefer the pool with the highest tensor-parallel degree
    /// (latency); at or above it the pool with the most replicas of low degree (throughput).
    public var tpSwitchPoint: Int = 64

    public init() {}

    enum CodingKeys: String, CodingKey { case low, medium, high, minDwellMs = "min_dwell_ms", tpSwitchPoint = "tp_switch_point" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        low = try c.decodeIfPresent(LevelSettings.self, forKey: .low) ?? low
        medium = try c.decodeIfPresent(LevelSettings.self, forKey: .medium) ?? medium
        high = try c.decodeIfPresent(LevelSettings.self, forKey: .high) ?? high
        minDwellMs = try c.decodeIfPresent(Int.self, forKey: .minDwellMs) ?? minDwellMs
        tpSwitchPoint = try c.decodeIfPresent(Int.self, forKey: .tpSwitchPoint) ?? tpSwitchPoint
    }

    func validate() throws {
        guard medium.exitAt < medium.enterAt, high.exitAt < high.enterAt else {
            throw ConfigurationError("load_levels: exit_at must be below enter_at (hysteresis)")
        }
        guard medium.enterAt <= high.enterAt, medium.exitAt <= high.exitAt, medium.exitAt >= 0 else {
            throw ConfigurationError("load_levels: medium thresholds must not exceed high's, and not be negative")
        }
        guard minDwellMs >= 0, tpSwitchPoint >= 1 else {
            throw ConfigurationError("load_levels: min_dwell_ms must be >= 0 and tp_switch_point >= 1")
        }
    }

    public func settings(_ level: LoadLevel) -> LevelSettings {
        switch level {
        case .low: low
        case .medium: medium
        case .high: high
        }
    }
}

/// One level's policy and thresholds (load per ready replica).
public struct LevelSettings: Codable, Sendable, Equatable {
    public var policy: RoutingPolicy
    public var enterAt: Double = 0
    public var exitAt: Double = 0

    public init(policy: RoutingPolicy, enterAt: Double = 0, exitAt: Double = 0) {
        self.policy = policy
        self.enterAt = enterAt
        self.exitAt = exitAt
    }

    enum CodingKeys: String, CodingKey { case policy, enterAt = "enter_at", exitAt = "exit_at" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decode(RoutingPolicy.self, forKey: .policy)
        enterAt = try c.decodeIfPresent(Double.self, forKey: .enterAt) ?? 0
        exitAt = try c.decodeIfPresent(Double.self, forKey: .exitAt) ?? 0
    }
}

/// The gateway's load level.
public enum LoadLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case low = 0, medium = 1, high = 2
    public static func < (a: LoadLevel, b: LoadLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["low", "medium", "high"][rawValue] }
}

/// How a request picks its replica.
public enum RoutingPolicy: String, Codable, Sendable, CaseIterable {
    case roundRobin = "round_robin"
    case random
    case leastOutstanding = "least_outstanding"
    case powerOfTwo = "power_of_two"
    case prefixAffinity = "prefix_affinity"
    case sessionAffinity = "session_affinity"

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let p = RoutingPolicy(rawValue: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "unknown policy '\(s)' (one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        self = p
    }
}
