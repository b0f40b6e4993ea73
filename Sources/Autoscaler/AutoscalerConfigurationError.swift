/// A rejected `AutoscalerConfiguration` value, naming the field at fault.
public struct AutoscalerConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The Swift property name, e.g. `minReplicas`.
    public let field: String
    /// The configuration-file (snake_case) key, e.g. `min_replicas`.
    public let key: String
    /// What is wrong, phrased to follow the key, e.g. "must not exceed max_replicas (5 > 3)".
    public let message: String

    public init(field: String, key: String, message: String) {
        self.field = field
        self.key = key
        self.message = message
    }

    /// `"<key> <message>"`, e.g. "min_replicas must not exceed max_replicas (5 > 3)".
    public var description: String { "\(key) \(message)" }
}
